#include "service/hooks/hook_chain.h"

#include <chrono>
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/hooks/fake_plugin.h"
#include "tests/unit/hooks/test_values.h"

namespace posd::hooks {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Eur;
using testing::FakePlugin;
using testing::TestOrder;
using testing::TestPayment;

class HookChainTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakePlugin> Add(std::string name, std::vector<HookPoint> points) {
    auto plugin = std::make_shared<FakePlugin>(std::move(name), std::move(points));
    loaded_.push_back(LoadedPlugin{.plugin = plugin, .settings = {}});
    plugins_ = PluginSet(loaded_);
    return plugin;
  }
  OrderDraft Draft() {
    return OrderDraft(TestOrder(), OrderDraft::Change::kUpdate, {"TEN"}, {},
                      std::chrono::system_clock::time_point());
  }

  std::vector<LoadedPlugin> loaded_;
  PluginSet plugins_;
};

TEST_F(HookChainTest, RunsBeforeHooksInConfiguredOrderEachSeeingThePrevious) {
  std::vector<std::string> calls;
  auto first = Add("first", {HookPoint::kBeforeOrder});
  Add("payments_only", {HookPoint::kBeforePayment})->before_order = [&](OrderDraft&) {
    calls.push_back("payments_only");
    return absl::OkStatus();
  };
  auto second = Add("second", {HookPoint::kBeforeOrder});
  first->before_order = [&](OrderDraft& d) {
    calls.push_back("first");
    return d.SetDiscount(core::Discount{.code = "TEN", .amount = Eur(100)}, "ten off");
  };
  second->before_order = [&](OrderDraft& d) {
    calls.push_back("second");
    EXPECT_EQ(d.order().discounts.size(), 1u);  // sees what "first" granted
    return absl::OkStatus();
  };
  HookChain chain(plugins_, HookChainOptions{});
  OrderDraft draft = Draft();
  POSD_ASSERT_OK(chain.RunBeforeOrder(draft));
  EXPECT_THAT(calls, ElementsAre("first", "second"));
  EXPECT_EQ(*draft.order().Total(), Eur(720));
  ASSERT_EQ(draft.grants().size(), 1u);
  EXPECT_EQ(draft.grants()[0],
            (DiscountGrant{.code = "TEN", .plugin = "first", .description = "ten off"}));
}

TEST_F(HookChainTest, VetoStopsTheChainNamesThePluginAndLeavesTheDraftUnchanged) {
  auto vetoing = Add("discount", {HookPoint::kBeforeOrder});
  auto later = Add("later", {HookPoint::kBeforeOrder});
  vetoing->before_order = [](OrderDraft& d) {
    // A change made before vetoing must not leak into the draft.
    (void)d.SetDiscount(core::Discount{.code = "TEN", .amount = Eur(100)});
    return absl::FailedPreconditionError("coupon TEN has expired");
  };
  bool later_ran = false;
  later->before_order = [&](OrderDraft&) {
    later_ran = true;
    return absl::OkStatus();
  };
  HookChain chain(plugins_, HookChainOptions{});
  OrderDraft draft = Draft();
  absl::Status status = chain.RunBeforeOrder(draft);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition,
                               "discount: coupon TEN has expired"));
  EXPECT_EQ(VetoingPlugin(status), "discount");
  EXPECT_TRUE(draft.order().discounts.empty());
  EXPECT_FALSE(later_ran);
}

TEST_F(HookChainTest, OtherErrorsKeepTheirCode) {
  Add("tip", {HookPoint::kBeforePayment})->before_payment = [](PaymentDraft&) {
    return absl::InternalError("bug");
  };
  HookChain chain(plugins_, HookChainOptions{});
  PaymentDraft draft(TestPayment(), std::nullopt, {}, {});
  EXPECT_THAT(chain.RunBeforePayment(draft), StatusIs(absl::StatusCode::kInternal, "tip: bug"));
}

TEST_F(HookChainTest, ExceptionFromAPluginBecomesInternal) {
  Add("thrower", {HookPoint::kBeforeRefund})->before_refund = [](RefundDraft&) -> absl::Status {
    throw std::runtime_error("boom");
  };
  HookChain chain(plugins_, HookChainOptions{});
  RefundDraft draft(testing::TestRefund(), TestPayment(), std::nullopt, {});
  EXPECT_THAT(chain.RunBeforeRefund(draft),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("thrower: hook threw: boom")));
}

TEST_F(HookChainTest, HookOverItsTimeLimitIsADeadlineVetoAndTheChainStaysUsable) {
  absl::Notification release;
  auto slow = Add("slow", {HookPoint::kBeforePayment});
  int calls = 0;
  slow->before_payment = [&](PaymentDraft& d) {
    if (++calls == 1) {
      release.WaitForNotification();  // stuck until the test ends
      (void)d.SetTip(Eur(999));       // too late: this copy is discarded
    }
    return absl::OkStatus();
  };
  // The stuck hook costs the test exactly this long; the margin is for the
  // well-behaved call after it on a loaded machine.
  HookChain chain(plugins_, HookChainOptions{.time_limit = std::chrono::milliseconds(250)});
  PaymentDraft draft(TestPayment(), std::nullopt, {}, {});
  absl::Status status = chain.RunBeforePayment(draft);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDeadlineExceeded,
                               "slow: did not answer within 250 ms"));
  EXPECT_EQ(VetoingPlugin(status), "slow");
  EXPECT_EQ(chain.abandoned_workers(), 1);

  // The next command is not queued behind the stuck hook.
  POSD_EXPECT_OK(chain.RunBeforePayment(draft));
  release.Notify();
  EXPECT_EQ(draft.payment().tip, Eur(0));
}

TEST_F(HookChainTest, InlineModeHasNoLimit) {
  auto plugin = Add("tip", {HookPoint::kBeforePayment});
  plugin->before_payment = [](PaymentDraft& d) { return d.SetTip(Eur(150)); };
  HookChain chain(plugins_, HookChainOptions{.time_limit = std::chrono::milliseconds(0)});
  PaymentDraft draft(TestPayment(), std::nullopt, {}, {});
  POSD_ASSERT_OK(chain.RunBeforePayment(draft));
  EXPECT_EQ(draft.payment().tip, Eur(150));
  EXPECT_EQ(chain.abandoned_workers(), 0);
}

TEST_F(HookChainTest, PlansOneAfterRunPerImplementingPluginWithStableKeys) {
  Add("receipt", {HookPoint::kAfterPayment, HookPoint::kAfterRefund});
  Add("discount", {HookPoint::kBeforeOrder});
  Add("loyalty", {HookPoint::kAfterPayment});
  HookChain chain(plugins_, HookChainOptions{});
  const std::string pay = "pay_01HF7YAT00V3DQ4XK2M8E9R6ZC";
  EXPECT_THAT(
      chain.PlanAfterRuns(HookPoint::kAfterPayment, pay),
      ElementsAre(PlannedHookRun{.hook_point = HookPoint::kAfterPayment,
                                 .plugin = "receipt",
                                 .subject_id = pay,
                                 .idempotency_key = pay + ":afterPayment:receipt"},
                  PlannedHookRun{.hook_point = HookPoint::kAfterPayment,
                                 .plugin = "loyalty",
                                 .subject_id = pay,
                                 .idempotency_key = pay + ":afterPayment:loyalty"}));
  EXPECT_TRUE(chain.PlanAfterRuns(HookPoint::kOnPaymentFailed, pay).empty());
  EXPECT_TRUE(chain.PlanAfterRuns(HookPoint::kBeforeOrder, pay).empty());
}

TEST(HookPointTest, NamesRoundTrip) {
  for (HookPoint point : kAllHookPoints) {
    EXPECT_EQ(*ParseHookPoint(ToString(point)), point);
  }
  EXPECT_EQ(ToString(HookPoint::kOnPaymentFailed), "onPaymentFailed");
  EXPECT_THAT(ParseHookPoint("AfterPayment"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(IsBeforeHook(HookPoint::kBeforeRefund));
  EXPECT_FALSE(IsBeforeHook(HookPoint::kAfterRefund));
}

TEST(OrderDraftTest, SetDiscountReplacesByCodeAndRefusesTooMuch) {
  OrderDraft draft(TestOrder(), OrderDraft::Change::kPlace, {"A"}, {{"A", 3}}, {});
  EXPECT_EQ(draft.CouponUses("A"), 3);
  EXPECT_EQ(draft.CouponUses("B"), 0);
  POSD_ASSERT_OK(draft.SetDiscount(core::Discount{.code = "A", .amount = Eur(100)}));
  POSD_ASSERT_OK(draft.SetDiscount(core::Discount{.code = "A", .amount = Eur(200)}));
  ASSERT_EQ(draft.order().discounts.size(), 1u);
  EXPECT_EQ(draft.order().discounts[0].amount, Eur(200));
  EXPECT_THAT(draft.SetDiscount(core::Discount{.code = "B", .amount = Eur(10'000)}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(draft.SetDiscount(core::Discount{.code = "C", .amount = Eur(0)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(draft.SetDiscount(core::Discount{
                  .code = "D", .amount = core::Money(1, *core::CurrencyCode::Parse("USD"))}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(draft.order().discounts.size(), 1u);
  EXPECT_TRUE(draft.RemoveDiscount("A"));
  EXPECT_FALSE(draft.RemoveDiscount("A"));
  EXPECT_TRUE(draft.grants().empty());
}

TEST(PaymentDraftTest, SetTipChecksCurrencyAndSign) {
  PaymentDraft draft(TestPayment(), std::nullopt, {{"tip.preset", "1"}}, {});
  EXPECT_EQ(draft.parameter("tip.preset"), "1");
  EXPECT_EQ(draft.parameter("other"), std::nullopt);
  POSD_ASSERT_OK(draft.SetTip(Eur(100)));
  EXPECT_THAT(draft.SetTip(Eur(-1)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(draft.SetTip(core::Money(1, *core::CurrencyCode::Parse("USD"))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(draft.SetTip(Eur(INT64_MAX)), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(draft.payment().tip, Eur(100));
}

}  // namespace
}  // namespace posd::hooks
