// PluginHookPoints: the engine's resources become the plugins' drafts and
// what the hooks changed comes back; through the engine, a before-hook's
// effect commits with the transition and a veto changes nothing; after-hook
// runs reach the plugin through the real outbox runner.
#include "service/engine/plugin_hook_points.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/engine/domain_conversion.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/outbox_runner.h"
#include "service/hooks/plugin_set.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/engine/engine_fixture.h"
#include "tests/unit/hooks/fake_plugin.h"

namespace posd::engine::testing {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using hooks::HookPoint;
using hooks::testing::FakePlugin;

core::Money Eur(int64_t minor) { return core::Money(minor, *core::CurrencyCode::Parse("EUR")); }

// A stored-looking order: the engine hands hooks orders it built itself.
posd::v1::Order SomeOrder() {
  posd::v1::Order order;
  order.set_id("ord_01HF7YAT00V3DQ4XK2M8E9R6ZB");
  order.set_status(posd::v1::ORDER_STATUS_OPEN);
  order.set_currency_code("EUR");
  auto* line = order.add_lines();
  line->set_line_id("1");
  line->set_sku("coffee");
  line->set_quantity(2);
  line->mutable_unit_price()->set_amount_minor(500);
  line->mutable_unit_price()->set_currency_code("EUR");
  order.add_coupon_codes("lunch10");
  return order;
}

posd::v1::Payment SomePayment() {
  posd::v1::Payment payment;
  payment.set_id("pay_01HF7YAT00V3DQ4XK2M8E9R6ZC");
  payment.set_device_id("counter-1");
  payment.set_status(posd::v1::PAYMENT_STATUS_CREATED);
  payment.mutable_amount()->set_amount_minor(1000);
  payment.mutable_amount()->set_currency_code("EUR");
  payment.mutable_tip()->set_currency_code("EUR");
  payment.mutable_refunded_amount()->set_currency_code("EUR");
  return payment;
}

class PluginHookPointsTest : public ::testing::Test {
 protected:
  explicit PluginHookPointsTest(std::chrono::milliseconds limit = std::chrono::milliseconds(0))
      : limit_(limit) {}

  PluginHookPoints& With(std::vector<std::shared_ptr<hooks::Plugin>> plugins) {
    std::vector<hooks::LoadedPlugin> loaded;
    for (auto& plugin : plugins) loaded.push_back({.plugin = plugin, .settings = {}});
    set_ = std::make_unique<hooks::PluginSet>(std::move(loaded));
    chain_ = std::make_unique<hooks::HookChain>(*set_, hooks::HookChainOptions{.time_limit = limit_});
    points_ = std::make_unique<PluginHookPoints>(*chain_);
    return *points_;
  }

  std::chrono::milliseconds limit_;
  std::unique_ptr<hooks::PluginSet> set_;
  std::unique_ptr<hooks::HookChain> chain_;
  std::unique_ptr<PluginHookPoints> points_;
};

TEST_F(PluginHookPointsTest, ADiscountComesBackWithItsPluginAndDescription) {
  auto coupons = std::make_shared<FakePlugin>("coupons", std::vector{HookPoint::kBeforeOrder});
  hooks::OrderDraft::Change seen_change = hooks::OrderDraft::Change::kUpdate;
  int64_t seen_uses = -1;
  coupons->before_order = [&](hooks::OrderDraft& draft) {
    seen_change = draft.change();
    seen_uses = draft.CouponUses("LUNCH10");
    EXPECT_TRUE(draft.HasCouponCode("lunch10"));
    EXPECT_EQ(draft.order().lines.size(), 1u);
    return draft.SetDiscount(core::Discount{.code = "LUNCH10", .amount = Eur(100)}, "10% lunch");
  };
  PluginHookPoints& points = With({coupons});
  posd::v1::Order order = SomeOrder();
  ASSERT_THAT(points.BeforeOrder({.change = hooks::OrderDraft::Change::kPlace,
                                  .coupon_uses = {{"LUNCH10", 3}},
                                  .now = std::chrono::system_clock::now()},
                                 order),
              IsOk());
  EXPECT_EQ(seen_change, hooks::OrderDraft::Change::kPlace);
  EXPECT_EQ(seen_uses, 3);
  ASSERT_EQ(order.discounts_size(), 1);
  EXPECT_EQ(order.discounts(0).plugin(), "coupons");
  EXPECT_EQ(order.discounts(0).coupon_code(), "LUNCH10");
  EXPECT_EQ(order.discounts(0).description(), "10% lunch");
  EXPECT_EQ(order.discounts(0).amount().amount_minor(), 100);
  EXPECT_EQ(order.discounts(0).amount().currency_code(), "EUR");

  // Run again (the order changed): the plugin recomputes, nothing doubles.
  ASSERT_THAT(points.BeforeOrder({.now = std::chrono::system_clock::now()}, order), IsOk());
  EXPECT_EQ(order.discounts_size(), 1);
}

TEST_F(PluginHookPointsTest, ADiscountAHookLeavesAloneKeepsItsOrigin) {
  auto quiet = std::make_shared<FakePlugin>("quiet", std::vector{HookPoint::kBeforeOrder});
  PluginHookPoints& points = With({quiet});
  posd::v1::Order order = SomeOrder();
  auto* earlier = order.add_discounts();
  earlier->set_plugin("coupons");
  earlier->set_coupon_code("LUNCH10");
  earlier->set_description("10% lunch");
  *earlier->mutable_amount() = MoneyProto(100, "EUR");
  ASSERT_THAT(points.BeforeOrder({.now = std::chrono::system_clock::now()}, order), IsOk());
  ASSERT_EQ(order.discounts_size(), 1);
  EXPECT_EQ(order.discounts(0).plugin(), "coupons");
  EXPECT_EQ(order.discounts(0).description(), "10% lunch");
}

TEST_F(PluginHookPointsTest, AVetoNamesThePluginAndLeavesTheOrderAlone) {
  auto strict = std::make_shared<FakePlugin>("strict", std::vector{HookPoint::kBeforeOrder});
  strict->before_order = [](hooks::OrderDraft& draft) {
    EXPECT_THAT(draft.SetDiscount(core::Discount{.code = "X", .amount = Eur(50)}), IsOk());
    return absl::FailedPreconditionError("coupon LUNCH10 has expired");
  };
  PluginHookPoints& points = With({strict});
  posd::v1::Order order = SomeOrder();
  const posd::v1::Order before = order;
  const absl::Status status =
      points.BeforeOrder({.now = std::chrono::system_clock::now()}, order);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(status.message(), HasSubstr("strict: coupon LUNCH10 has expired"));
  EXPECT_EQ(order.SerializeAsString(), before.SerializeAsString());
}

TEST_F(PluginHookPointsTest, TheTipComesBackAndAPaymentVetoIsPassedOn) {
  auto tips = std::make_shared<FakePlugin>("tips", std::vector{HookPoint::kBeforePayment});
  bool saw_order = false;
  std::optional<std::string> seen_choice;
  tips->before_payment = [&](hooks::PaymentDraft& draft) {
    saw_order = draft.order().has_value();
    if (auto choice = draft.parameter("tips.choice")) seen_choice = std::string(*choice);
    return draft.SetTip(Eur(150));
  };
  PluginHookPoints& points = With({tips});
  posd::v1::Payment payment = SomePayment();
  const posd::v1::Order order = SomeOrder();
  ASSERT_THAT(points.BeforePayment({.now = std::chrono::system_clock::now(),
                                    .parameters = {{"tips.choice", "large"}}},
                                   &order, payment),
              IsOk());
  EXPECT_TRUE(saw_order);
  EXPECT_EQ(seen_choice, "large");
  EXPECT_EQ(payment.tip().amount_minor(), 150);

  tips->before_payment = [](hooks::PaymentDraft&) {
    return absl::FailedPreconditionError("tips are off today");
  };
  posd::v1::Payment quick = SomePayment();
  const absl::Status veto =
      points.BeforePayment({.now = std::chrono::system_clock::now()}, nullptr, quick);
  EXPECT_THAT(veto, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(hooks::VetoingPlugin(veto), "tips");
  EXPECT_EQ(quick.tip().amount_minor(), 0);
}

TEST_F(PluginHookPointsTest, ARefundCanOnlyBeVetoed) {
  auto window = std::make_shared<FakePlugin>("window", std::vector{HookPoint::kBeforeRefund});
  std::string seen_reason;
  window->before_refund = [&](hooks::RefundDraft& draft) {
    seen_reason = draft.refund().reason;
    return absl::FailedPreconditionError("refund window closed");
  };
  PluginHookPoints& points = With({window});
  posd::v1::Payment payment = SomePayment();
  payment.set_status(posd::v1::PAYMENT_STATUS_APPROVED);
  posd::v1::Refund refund;
  refund.set_id("ref_01HF7YAT00V3DQ4XK2M8E9R6ZD");
  refund.set_payment_id(payment.id());
  *refund.mutable_amount() = MoneyProto(300, "EUR");
  refund.set_reason("wrong size");
  const absl::Status status =
      points.BeforeRefund(std::chrono::system_clock::now(), nullptr, payment, refund);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(status.message(), HasSubstr("window: refund window closed"));
  EXPECT_EQ(seen_reason, "wrong size");
}

TEST_F(PluginHookPointsTest, AResourceTheEngineCouldNotHaveBuiltIsAnInternalError) {
  PluginHookPoints& points = With({});
  posd::v1::Order order = SomeOrder();
  order.set_id("not-an-order-id");
  EXPECT_THAT(points.BeforeOrder({.now = std::chrono::system_clock::now()}, order),
              StatusIs(absl::StatusCode::kInternal));
}

TEST_F(PluginHookPointsTest, AfterRunsArePlannedPerEnabledPluginInOrder) {
  auto a = std::make_shared<FakePlugin>("a", std::vector{HookPoint::kAfterPayment});
  auto b = std::make_shared<FakePlugin>("b", std::vector{HookPoint::kAfterPayment,
                                                         HookPoint::kAfterRefund});
  PluginHookPoints& points = With({a, b});
  auto runs = points.PlanAfterRuns(HookPoint::kAfterPayment, "pay_1");
  ASSERT_THAT(runs, SizeIs(2));
  EXPECT_EQ(runs[0].plugin, "a");
  EXPECT_EQ(runs[1].idempotency_key, "pay_1:afterPayment:b");
  EXPECT_THAT(points.PlanAfterRuns(HookPoint::kAfterOrder, "ord_1"), IsEmpty());
  EXPECT_THAT(points.PlanAfterRuns(HookPoint::kBeforePayment, "pay_1"), IsEmpty());
}

class SlowHookPointsTest : public PluginHookPointsTest {
 protected:
  SlowHookPointsTest() : PluginHookPointsTest(std::chrono::milliseconds(50)) {}
};

TEST_F(SlowHookPointsTest, AHookOverItsTimeLimitRefusesAndChangesNothing) {
  auto slow = std::make_shared<FakePlugin>("slow", std::vector{HookPoint::kBeforePayment});
  auto release = std::make_shared<std::atomic<bool>>(false);
  slow->before_payment = [release](hooks::PaymentDraft& draft) {
    while (!release->load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return draft.SetTip(Eur(999));
  };
  PluginHookPoints& points = With({slow});
  posd::v1::Payment payment = SomePayment();
  const absl::Status status =
      points.BeforePayment({.now = std::chrono::system_clock::now()}, nullptr, payment);
  release->store(true);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(status.message(), HasSubstr("slow"));
  EXPECT_EQ(payment.tip().amount_minor(), 0);
}

// Through the engine: the effect commits with the transition, a veto leaves
// nothing behind, and coupon uses are counted by the engine.
class EngineWithPluginsTest : public EngineTest {
 protected:
  void SetUp() override {
    coupons_ = std::make_shared<FakePlugin>(
        "coupons",
        std::vector{HookPoint::kBeforeOrder, HookPoint::kBeforePayment, HookPoint::kAfterPayment});
    // A tip rule that reads the request's parameters: "tip.cents" sets the tip.
    coupons_->before_payment = [this](hooks::PaymentDraft& draft) -> absl::Status {
      parameters_seen_.push_back(draft.parameters());
      auto cents = draft.parameter("tip.cents");
      if (!cents) return absl::OkStatus();
      return draft.SetTip(Eur(std::stoll(std::string(*cents))));
    };
    coupons_->before_order = [this](hooks::OrderDraft& draft) -> absl::Status {
      uses_seen_.push_back(draft.CouponUses("FIVE"));
      if (!draft.HasCouponCode("five") && !draft.HasCouponCode("FIVE")) return absl::OkStatus();
      if (draft.CouponUses("FIVE") >= 1) {
        return absl::FailedPreconditionError("coupon FIVE has been used up (1 uses)");
      }
      return draft.SetDiscount(core::Discount{.code = "FIVE", .amount = Eur(500)}, "5 off");
    };
    std::vector<hooks::LoadedPlugin> loaded{{.plugin = coupons_, .settings = {}}};
    set_ = std::make_unique<hooks::PluginSet>(std::move(loaded));
    chain_ = std::make_unique<hooks::HookChain>(*set_, hooks::HookChainOptions{});
    points_ = std::make_unique<PluginHookPoints>(*chain_);
    hooks_ = points_.get();
    EngineTest::SetUp();
  }

  absl::StatusOr<posd::v1::Order> Create(const std::string& coupon) {
    posd::v1::CreateOrderRequest create;
    create.set_request_id("create-" + std::to_string(++request_counter_));
    create.mutable_order()->set_currency_code("EUR");
    if (!coupon.empty()) create.mutable_order()->add_coupon_codes(coupon);
    auto* line = create.mutable_order()->add_lines();
    line->set_sku("menu");
    line->set_quantity(1);
    line->mutable_unit_price()->set_amount_minor(2000);
    line->mutable_unit_price()->set_currency_code("EUR");
    return Call(&Engine::CreateOrder, create);
  }

  std::shared_ptr<FakePlugin> coupons_;
  std::vector<int64_t> uses_seen_;
  std::vector<std::map<std::string, std::string, std::less<>>> parameters_seen_;
  std::unique_ptr<hooks::PluginSet> set_;
  std::unique_ptr<hooks::HookChain> chain_;
  std::unique_ptr<PluginHookPoints> points_;
};

TEST_F(EngineWithPluginsTest, TheDiscountIsCommittedWithTheOrderAndAVetoLeavesNothing) {
  auto order = Create("five");
  ASSERT_THAT(order, IsOk());
  auto stored = engine_->queries().GetOrder(order->id());
  ASSERT_THAT(stored, IsOk());
  ASSERT_EQ(stored->discounts_size(), 1);
  EXPECT_EQ(stored->discounts(0).plugin(), "coupons");
  EXPECT_EQ(stored->discounts(0).coupon_code(), "FIVE");
  EXPECT_EQ(stored->total().amount_minor(), 1500);

  // The coupon is used once now: a second order is refused, and nothing of it
  // is stored.
  const uint64_t head = *engine_->queries().HeadSequence();
  auto second = Create("FIVE");
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(second.status().message(), HasSubstr("coupons: coupon FIVE has been used up"));
  EXPECT_EQ(*engine_->queries().HeadSequence(), head);
  auto list = engine_->queries().ListOrders({});
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->orders_size(), 1);
  EXPECT_EQ(uses_seen_.back(), 1);

  // Canceling the first order gives its use back.
  posd::v1::CancelOrderRequest cancel;
  cancel.set_request_id("cancel-1");
  cancel.set_order_id(order->id());
  ASSERT_THAT(Call(&Engine::CancelOrder, cancel), IsOk());
  EXPECT_THAT(Create("five"), IsOk());
}

TEST_F(EngineWithPluginsTest, TheOutboxRunnerDeliversTheApprovedPaymentToThePlugin) {
  std::mutex mutex;
  std::vector<std::string> delivered;
  coupons_->after = [&](const hooks::HookSubject& subject, const hooks::AfterHookContext& context) {
    const std::lock_guard lock(mutex);
    delivered.push_back(context.idempotency_key + " " +
                        std::string(core::ToString(subject.payment->state)));
    return absl::OkStatus();
  };
  hooks::OutboxRunner runner(*engine_, *set_, RealClock::Get(),
                             {.initial_backoff = std::chrono::milliseconds(10)});
  engine_->SetHookRunsListener([&runner] { runner.Wake(); });
  ASSERT_THAT(runner.Start(), IsOk());

  auto order = Create("");
  ASSERT_THAT(order, IsOk());
  posd::v1::PlaceOrderRequest place;
  place.set_request_id("place-1");
  place.set_order_id(order->id());
  ASSERT_THAT(Call(&Engine::PlaceOrder, place), IsOk());
  auto payment = Pay(order->id(), 2000);
  ASSERT_THAT(payment, IsOk());
  devices_.Complete(payment->id(), TransactionOutcome::kApproved);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  ASSERT_TRUE(waiter_.WaitUntil([&] {
    auto runs = engine_->ListRuns({.states = {hooks::HookRunState::kSucceeded}});
    return runs.ok() && runs->runs.size() == 1;
  }));
  runner.Stop();
  engine_->SetHookRunsListener(nullptr);
  const std::lock_guard lock(mutex);
  ASSERT_THAT(delivered, SizeIs(1));
  EXPECT_EQ(delivered[0], payment->id() + ":afterPayment:coupons APPROVED");
}

TEST_F(EngineWithPluginsTest, PaymentParametersReachTheHooksAndTheTipIsCommitted) {
  const posd::v1::Order order = PlacedOrder(2000);
  posd::v1::CreatePaymentRequest request = PaymentRequest(order.id(), 2000);
  (*request.mutable_parameters())["tip.cents"] = "300";
  (*request.mutable_parameters())["ui.screen"] = "kiosk";
  auto payment = Call(&Engine::CreatePayment, request);
  ASSERT_THAT(payment, IsOk());
  EXPECT_EQ(payment->tip().amount_minor(), 300);
  ASSERT_THAT(parameters_seen_, SizeIs(1));
  EXPECT_EQ(parameters_seen_[0].size(), 2u);
  EXPECT_EQ(parameters_seen_[0].at("ui.screen"), "kiosk");
  // The terminal is asked for amount + the hooks' tip.
  EXPECT_EQ(devices_.ledger().at(payment->id()).tip_minor, 300);

  // A retry with the same parameters is the same payment; other parameters
  // under the same request_id are refused and change nothing.
  auto retried = Call(&Engine::CreatePayment, request);
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(retried->id(), payment->id());
  const uint64_t head = *engine_->queries().HeadSequence();
  (*request.mutable_parameters())["tip.cents"] = "500";
  EXPECT_THAT(Call(&Engine::CreatePayment, request),
              StatusIs(absl::StatusCode::kAlreadyExists));
  request.mutable_parameters()->erase("tip.cents");
  EXPECT_THAT(Call(&Engine::CreatePayment, request),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(*engine_->queries().HeadSequence(), head);
  EXPECT_EQ(devices_.sales_received(), 1);
}

TEST_F(EngineWithPluginsTest, ParametersOutOfBoundsAreRefusedBeforeAnyHookRuns) {
  const posd::v1::Order order = PlacedOrder(2000);
  const uint64_t head = *engine_->queries().HeadSequence();
  auto refused = [&](const std::function<void(posd::v1::CreatePaymentRequest&)>& spoil,
                     const std::string& message) {
    posd::v1::CreatePaymentRequest request = PaymentRequest(order.id(), 2000);
    spoil(request);
    auto payment = Call(&Engine::CreatePayment, request);
    EXPECT_THAT(payment, StatusIs(absl::StatusCode::kInvalidArgument)) << message;
    EXPECT_THAT(payment.status().message(), HasSubstr(message));
  };
  refused([](auto& r) {
    for (int i = 0; i < 17; ++i) (*r.mutable_parameters())["k" + std::to_string(i)] = "v";
  }, "parameters has 17 entries; at most 16");
  refused([](auto& r) { (*r.mutable_parameters())[""] = "v"; }, "a key must have 1 to 64");
  refused([](auto& r) { (*r.mutable_parameters())[std::string(65, 'k')] = "v"; },
          "a key must have 1 to 64");
  refused([](auto& r) { (*r.mutable_parameters())["tip preset"] = "1"; },
          "key \"tip preset\" may only contain");
  refused([](auto& r) { (*r.mutable_parameters())["note"] = std::string(257, 'x'); },
          "parameters[\"note\"] is longer than 256 bytes");
  EXPECT_THAT(parameters_seen_, IsEmpty());
  EXPECT_EQ(*engine_->queries().HeadSequence(), head);
  EXPECT_EQ(devices_.sales_received(), 0);

  // At the bounds it is fine.
  posd::v1::CreatePaymentRequest request = PaymentRequest(order.id(), 2000);
  for (int i = 0; i < 16; ++i) {
    (*request.mutable_parameters())["k" + std::to_string(i)] = std::string(256, 'v');
  }
  (*request.mutable_parameters())[std::string(64, 'k')] = "";
  request.mutable_parameters()->erase("k0");
  EXPECT_THAT(Call(&Engine::CreatePayment, request), IsOk());
}

}  // namespace
}  // namespace posd::engine::testing
