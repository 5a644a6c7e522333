#include "plugins/tip/tip_plugin.h"

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

core::Money Eur(int64_t cents) { return core::Money(cents, *core::CurrencyCode::Parse("EUR")); }

absl::StatusOr<hooks::PluginSet> Load(const std::string& json) {
  google::protobuf::RepeatedPtrField<config::v1::Plugin> config;
  config::v1::Plugin* entry = config.Add();
  entry->set_name("tip");
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, entry->mutable_settings()).ok());
  return hooks::LoadPlugins(config);
}

hooks::PaymentDraft Draft(core::Money amount, core::Money tip,
                          std::map<std::string, std::string, std::less<>> parameters = {}) {
  core::Payment payment{.id = *core::PaymentId::Parse("pay_01HF7YAT00V3DQ4XK2M8E9R6ZC"),
                        .device_id = *core::DeviceId::Parse("dev_01HF7YAT00V3DQ4XK2M8E9R6ZD"),
                        .amount = amount,
                        .tip = tip,
                        .refunded_amount = Eur(0)};
  return hooks::PaymentDraft(payment, std::nullopt, std::move(parameters), {});
}

class TipPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<hooks::PluginSet> set = Load(
        R"({"presets_bp": [1000, 1500, 2000], "max_percent_bp": 2500,
            "max_amount": {"EUR": "30.00"}})");
    POSD_ASSERT_OK(set);
    set_ = *std::move(set);
    plugin_ = set_.Find("tip");
    ASSERT_NE(plugin_, nullptr);
  }
  hooks::PluginSet set_;
  std::shared_ptr<hooks::Plugin> plugin_;
};

TEST_F(TipPluginTest, PresetByIndexIsAPercentageRoundedHalfUp) {
  hooks::PaymentDraft draft = Draft(Eur(1'234), Eur(0), {{"tip.preset", "1"}});
  POSD_ASSERT_OK(plugin_->BeforePayment(draft));
  EXPECT_EQ(draft.payment().tip, Eur(185));  // 15 % of 12.34 = 1.851
}

TEST_F(TipPluginTest, PresetByPercent) {
  hooks::PaymentDraft draft = Draft(Eur(1'000), Eur(0), {{"tip.percent_bp", "2000"}});
  POSD_ASSERT_OK(plugin_->BeforePayment(draft));
  EXPECT_EQ(draft.payment().tip, Eur(200));
}

TEST_F(TipPluginTest, BadChoicesAreInvalidArguments) {
  for (auto parameters : std::vector<std::map<std::string, std::string, std::less<>>>{
           {{"tip.preset", "3"}},
           {{"tip.preset", "-1"}},
           {{"tip.preset", "one"}},
           {{"tip.percent_bp", "1200"}},
           {{"tip.preset", "0"}, {"tip.percent_bp", "1000"}}}) {
    hooks::PaymentDraft draft = Draft(Eur(1'000), Eur(0), parameters);
    EXPECT_THAT(plugin_->BeforePayment(draft), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(draft.payment().tip, Eur(0));
  }
}

TEST_F(TipPluginTest, CustomTipIsKeptUnderTheCapAndClampedAbove) {
  hooks::PaymentDraft modest = Draft(Eur(1'000), Eur(150));
  POSD_ASSERT_OK(plugin_->BeforePayment(modest));
  EXPECT_EQ(modest.payment().tip, Eur(150));
  // 25 % of 10.00 is the lower cap here.
  hooks::PaymentDraft generous = Draft(Eur(1'000), Eur(900));
  POSD_ASSERT_OK(plugin_->BeforePayment(generous));
  EXPECT_EQ(generous.payment().tip, Eur(250));
  // On a large amount the absolute cap is the lower one.
  hooks::PaymentDraft large = Draft(Eur(100'000), Eur(20'000));
  POSD_ASSERT_OK(plugin_->BeforePayment(large));
  EXPECT_EQ(large.payment().tip, Eur(3'000));
}

TEST(TipPluginRefuseTest, OverTheCapIsVetoedWhenConfigured) {
  absl::StatusOr<hooks::PluginSet> set =
      Load(R"({"max_amount": {"EUR": "5.00"}, "refuse_over_cap": true})");
  POSD_ASSERT_OK(set);
  hooks::PaymentDraft draft = Draft(Eur(10'000), Eur(501));
  EXPECT_THAT(set->Find("tip")->BeforePayment(draft),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "tip 5.01 EUR exceeds the cap of 5.00 EUR"));
  // Other currencies have no absolute cap.
  core::CurrencyCode jpy = *core::CurrencyCode::Parse("JPY");
  core::Payment payment{.id = *core::PaymentId::Parse("pay_01HF7YAT00V3DQ4XK2M8E9R6ZC"),
                        .device_id = *core::DeviceId::Parse("dev_01HF7YAT00V3DQ4XK2M8E9R6ZD"),
                        .amount = core::Money(1'000, jpy),
                        .tip = core::Money(5'000, jpy),
                        .refunded_amount = core::Money(0, jpy)};
  hooks::PaymentDraft yen(payment, std::nullopt, {}, {});
  POSD_EXPECT_OK(set->Find("tip")->BeforePayment(yen));
}

TEST(TipSettingsTest, BadSettingsAreRefused) {
  EXPECT_THAT(Load(R"({"presets": [10]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "plugin \"tip\": unknown setting \"presets\""));
  EXPECT_THAT(Load(R"({"presets_bp": [0]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("presets_bp[0]")));
  EXPECT_THAT(Load(R"({"max_percent_bp": 10001})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_percent_bp")));
  EXPECT_THAT(Load(R"({"max_amount": {"EUR": "1,00"}})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_amount.EUR")));
}

}  // namespace
}  // namespace posd::plugins
