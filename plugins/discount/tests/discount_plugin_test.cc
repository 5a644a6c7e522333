#include "plugins/discount/discount_plugin.h"

#include <chrono>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "service/hooks/plugin_registry.h"
#include "tests/support/status_matchers.h"

namespace posd::plugins {
namespace {

using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using std::chrono::system_clock;

constexpr char kSettings[] = R"({
  "coupons": [
    {"code": "TEN", "description": "10% off", "percent_bp": 1000},
    {"code": "FIVER", "fixed_amounts": {"EUR": "5.00"}, "minimum_subtotal": {"EUR": "20.00"}},
    {"code": "ONCE", "percent_bp": 500, "max_uses": 1},
    {"code": "SUMMER", "percent_bp": 2000, "valid_from": "2024-06-01T00:00:00Z",
     "valid_until": "2024-09-01T00:00:00Z"}
  ]
})";

core::CurrencyCode Eur() { return *core::CurrencyCode::Parse("EUR"); }
core::Money Eur(int64_t cents) { return core::Money(cents, Eur()); }

system_clock::time_point Date(int64_t unix_seconds) {
  return system_clock::time_point(std::chrono::seconds(unix_seconds));
}
const system_clock::time_point kJuly2024 = Date(1'720'000'000);    // 2024-07-03
const system_clock::time_point kOctober2024 = Date(1'728'000'000);  // 2024-10-04

absl::StatusOr<hooks::PluginSet> Load(const std::string& json) {
  google::protobuf::RepeatedPtrField<config::v1::Plugin> config;
  config::v1::Plugin* entry = config.Add();
  entry->set_name("discount");
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, entry->mutable_settings()).ok());
  return hooks::LoadPlugins(config);
}

core::Order Order(int64_t cents_per_line, int lines = 1) {
  core::Order order{.id = *core::OrderId::Parse("ord_01HF7YAT00V3DQ4XK2M8E9R6ZB"),
                    .currency = Eur()};
  for (int i = 0; i < lines; ++i) {
    order.lines.push_back(core::OrderLine{.sku = "SKU", .quantity = 1,
                                          .unit_price = Eur(cents_per_line)});
  }
  return order;
}

class DiscountPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<hooks::PluginSet> set = Load(kSettings);
    POSD_ASSERT_OK(set);
    set_ = *std::move(set);
    plugin_ = set_.Find("discount");
    ASSERT_NE(plugin_, nullptr);
  }
  hooks::OrderDraft Draft(core::Order order, std::vector<std::string> codes,
                          std::map<std::string, int64_t, std::less<>> uses = {},
                          system_clock::time_point now = kJuly2024) {
    return hooks::OrderDraft(std::move(order), hooks::OrderDraft::Change::kUpdate,
                             std::move(codes), std::move(uses), now);
  }

  hooks::PluginSet set_;
  std::shared_ptr<hooks::Plugin> plugin_;
};

TEST_F(DiscountPluginTest, RegisteredByNameForBeforeOrder) {
  const hooks::PluginFactory* factory = hooks::PluginRegistry::Global().Find("discount");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->hook_points(), std::vector{hooks::HookPoint::kBeforeOrder});
  EXPECT_TRUE(plugin_->Implements(hooks::HookPoint::kBeforeOrder));
}

TEST_F(DiscountPluginTest, PercentageOfTheSubtotalRoundedHalfUp) {
  hooks::OrderDraft draft = Draft(Order(1'005), {"ten"});  // case-insensitive
  POSD_ASSERT_OK(plugin_->BeforeOrder(draft));
  ASSERT_EQ(draft.order().discounts.size(), 1u);
  EXPECT_EQ(draft.order().discounts[0], (core::Discount{.code = "TEN", .amount = Eur(101)}));
  EXPECT_EQ(draft.grants()[0].description, "10% off");
}

TEST_F(DiscountPluginTest, RecomputedOnChangeAndWithdrawnWhenTheCodeGoes) {
  hooks::OrderDraft first = Draft(Order(1'000), {"TEN"});
  POSD_ASSERT_OK(plugin_->BeforeOrder(first));
  core::Order changed = std::move(first).TakeOrder();
  changed.lines.push_back(core::OrderLine{.sku = "X", .quantity = 1, .unit_price = Eur(1'000)});
  hooks::OrderDraft second = Draft(changed, {"TEN"});
  POSD_ASSERT_OK(plugin_->BeforeOrder(second));
  ASSERT_EQ(second.order().discounts.size(), 1u);
  EXPECT_EQ(second.order().discounts[0].amount, Eur(200));
  hooks::OrderDraft third = Draft(std::move(second).TakeOrder(), {});
  POSD_ASSERT_OK(plugin_->BeforeOrder(third));
  EXPECT_TRUE(third.order().discounts.empty());
}

TEST_F(DiscountPluginTest, FixedAmountNeedsTheMinimumAndTheCurrency) {
  hooks::OrderDraft small = Draft(Order(1'999), {"FIVER"});
  EXPECT_THAT(plugin_->BeforeOrder(small),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("needs a subtotal of 20.00 EUR, the order has 19.99 EUR")));
  hooks::OrderDraft enough = Draft(Order(2'000), {"FIVER"});
  POSD_ASSERT_OK(plugin_->BeforeOrder(enough));
  EXPECT_EQ(*enough.order().Total(), Eur(1'500));

  core::Order usd = Order(5'000);
  usd.currency = *core::CurrencyCode::Parse("USD");
  usd.lines[0].unit_price = core::Money(5'000, usd.currency);
  hooks::OrderDraft in_usd = Draft(usd, {"FIVER"});
  EXPECT_THAT(plugin_->BeforeOrder(in_usd),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "coupon FIVER is not valid for orders in USD"));
}

TEST_F(DiscountPluginTest, UnknownCodeIsVetoed) {
  hooks::OrderDraft draft = Draft(Order(1'000), {"FREE"});
  EXPECT_THAT(plugin_->BeforeOrder(draft),
              StatusIs(absl::StatusCode::kFailedPrecondition, "unknown coupon code \"FREE\""));
}

TEST_F(DiscountPluginTest, NotStackableByDefault) {
  hooks::OrderDraft draft = Draft(Order(3'000), {"TEN", "FIVER"});
  EXPECT_THAT(plugin_->BeforeOrder(draft),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "coupons TEN and FIVER cannot be combined"));
  // The same code twice is one coupon.
  hooks::OrderDraft twice = Draft(Order(3'000), {"TEN", "ten"});
  POSD_ASSERT_OK(plugin_->BeforeOrder(twice));
  EXPECT_EQ(twice.order().discounts.size(), 1u);
}

TEST(DiscountPluginStackingTest, StackedCouponsNeverTakeTheOrderBelowZero) {
  absl::StatusOr<hooks::PluginSet> set = Load(R"({"stackable": true, "coupons": [
      {"code": "HALF", "percent_bp": 5000}, {"code": "BIG", "fixed_amounts": {"EUR": "100.00"}}]})");
  POSD_ASSERT_OK(set);
  hooks::OrderDraft draft(Order(1'000), hooks::OrderDraft::Change::kPlace, {"HALF", "BIG"}, {},
                          kJuly2024);
  POSD_ASSERT_OK(set->Find("discount")->BeforeOrder(draft));
  ASSERT_EQ(draft.order().discounts.size(), 2u);
  EXPECT_EQ(draft.order().discounts[1].amount, Eur(500));
  EXPECT_EQ(*draft.order().Total(), Eur(0));
}

TEST_F(DiscountPluginTest, UseLimitCountsOtherOrdersAsTheEngineReports) {
  hooks::OrderDraft unused = Draft(Order(1'000), {"ONCE"}, {{"ONCE", 0}});
  POSD_ASSERT_OK(plugin_->BeforeOrder(unused));
  hooks::OrderDraft used = Draft(Order(1'000), {"ONCE"}, {{"ONCE", 1}});
  EXPECT_THAT(plugin_->BeforeOrder(used),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "coupon ONCE has been used up (1 uses)"));
}

TEST_F(DiscountPluginTest, ValidityPeriod) {
  hooks::OrderDraft before = Draft(Order(1'000), {"SUMMER"}, {}, Date(1'700'000'000));
  EXPECT_THAT(plugin_->BeforeOrder(before),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "coupon SUMMER is valid from 2024-06-01T00:00:00Z"));
  hooks::OrderDraft during = Draft(Order(1'000), {"SUMMER"}, {}, kJuly2024);
  POSD_ASSERT_OK(plugin_->BeforeOrder(during));
  hooks::OrderDraft after = Draft(Order(1'000), {"SUMMER"}, {}, kOctober2024);
  EXPECT_THAT(plugin_->BeforeOrder(after),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "coupon SUMMER expired at 2024-09-01T00:00:00Z"));
}

TEST(DiscountSettingsTest, BadSettingsAreRefusedNamingTheCouponAndKey) {
  EXPECT_THAT(Load(R"({"coupons": [{"code": "A", "percent": 10}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "plugin \"discount\": unknown setting \"coupons[0].percent\""));
  EXPECT_THAT(Load(R"({"coupons": [{"code": "A"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("coupon \"A\": set exactly one of percent_bp and fixed_amounts")));
  EXPECT_THAT(Load(R"({"coupons": [{"code": "A", "percent_bp": 20000}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not between 1 and 10000")));
  EXPECT_THAT(Load(R"({"coupons": [{"code": "A", "fixed_amounts": {"EUR": "5.001"}}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fixed_amounts.EUR")));
  EXPECT_THAT(Load(R"({"coupons": [{"code": "A", "fixed_amounts": {"XYZ": "5"}}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("coupon \"A\"")));
  EXPECT_THAT(Load(R"({"coupons": [{"code": "a", "percent_bp": 1}, {"code": "A", "percent_bp": 1}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listed twice")));
  EXPECT_THAT(Load(R"({"coupons": [{"code": "A", "percent_bp": 1,
      "valid_from": "2024-09-01T00:00:00Z", "valid_until": "2024-06-01T00:00:00Z"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("valid_until")));
}

}  // namespace
}  // namespace posd::plugins
