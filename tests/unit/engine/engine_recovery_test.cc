// Recovery after posd stops mid-flow: every payment reaches a final state
// that agrees with what the terminal's ledger says it did.
#include "service/store/statement.h"
#include "tests/unit/engine/engine_fixture.h"

namespace posd::engine::testing {
namespace {

using ::posd::testing::IsOk;

TEST_F(EngineTest, RecoveryAfterACrashResolvesEveryPayment) {
  devices_.AddDevice("counter-2");
  // One terminal takes one payment at a time: the payments in flight
  // together are on terminals of their own.
  for (const char* device : {"counter-3", "counter-4", "counter-5"}) devices_.AddDevice(device);
  auto pay_on = [&](const std::string& order_id, int64_t amount, const char* device) {
    auto request = PaymentRequest(order_id, amount);
    request.mutable_payment()->set_device_id(device);
    return Call(&Engine::CreatePayment, request);
  };
  // A: the terminal has it; it will approve while posd is down.
  posd::v1::Order order_a = PlacedOrder(1000);
  auto a = Pay(order_a.id(), 1000);
  ASSERT_THAT(a, IsOk());
  // B: the terminal is still working on it when posd comes back.
  posd::v1::Order order_b = PlacedOrder(2000);
  auto b = pay_on(order_b.id(), 2000, "counter-3");
  ASSERT_THAT(b, IsOk());
  devices_.Progress(b->id(), TerminalStage::kPinEntry);
  ASSERT_TRUE(WaitForPayment(b->id(), posd::v1::PAYMENT_STATUS_AUTHORIZING));
  // C: lost on the wire; the terminal never saw it.
  posd::v1::Order order_c = PlacedOrder(3000);
  devices_.DropNextRequest();
  auto c = pay_on(order_c.id(), 3000, "counter-4");
  ASSERT_THAT(c, IsOk());
  // D: posd stopped before sending it (still CREATED in the database).
  posd::v1::Order order_d = PlacedOrder(4000);
  devices_.DropNextRequest();
  auto d = pay_on(order_d.id(), 4000, "counter-5");
  ASSERT_THAT(d, IsOk());
  // E: on a terminal that is unreachable when posd comes back.
  posd::v1::Order order_e = PlacedOrder(5000);
  auto e_request = PaymentRequest(order_e.id(), 5000);
  e_request.mutable_payment()->set_device_id("counter-2");
  auto e = Call(&Engine::CreatePayment, e_request);
  ASSERT_THAT(e, IsOk());
  devices_.WaitIdle();

  CloseEngine();  // posd goes away mid-flow
  {
    auto db = store::Database::Open(dir_.File("posd.db").string(), {});
    ASSERT_THAT(db, IsOk());
    POSD_ASSERT_OK((*db)->Execute("UPDATE payments SET status = 'CREATED', recovery_point = "
                                  "'not_sent' WHERE id = '" + d->id() + "'"));
  }
  devices_.Complete(a->id(), TransactionOutcome::kApproved, /*reachable=*/false);
  devices_.Complete(e->id(), TransactionOutcome::kDeclined, /*reachable=*/false);
  devices_.AddDevice("counter-2", /*ready=*/false);
  OpenEngine();

  EXPECT_TRUE(WaitForPayment(a->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  EXPECT_TRUE(WaitForPayment(b->id(), posd::v1::PAYMENT_STATUS_AUTHORIZING));
  EXPECT_TRUE(WaitForPayment(c->id(), posd::v1::PAYMENT_STATUS_FAILED));
  EXPECT_TRUE(WaitForPayment(d->id(), posd::v1::PAYMENT_STATUS_FAILED));
  EXPECT_TRUE(WaitForPayment(e->id(), posd::v1::PAYMENT_STATUS_IN_DOUBT));
  devices_.Complete(b->id(), TransactionOutcome::kApproved);
  devices_.Ready("counter-2");
  EXPECT_TRUE(WaitForPayment(b->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  EXPECT_TRUE(WaitForPayment(e->id(), posd::v1::PAYMENT_STATUS_DECLINED));

  // Nothing is left behind, and posd agrees with the terminal's ledger.
  auto ledger = devices_.ledger();
  for (const auto& id : {a->id(), b->id(), c->id(), d->id(), e->id()}) {
    auto payment = engine_->queries().GetPayment(id);
    ASSERT_THAT(payment, IsOk());
    const bool state = payment->status() == posd::v1::PAYMENT_STATUS_APPROVED ||
                       payment->status() == posd::v1::PAYMENT_STATUS_DECLINED ||
                       payment->status() == posd::v1::PAYMENT_STATUS_FAILED;
    const bool charged = ledger.count(id) != 0 && ledger.at(id).outcome.has_value() &&
                         *ledger.at(id).outcome == TransactionOutcome::kApproved;
    EXPECT_EQ(payment->status() == posd::v1::PAYMENT_STATUS_APPROVED, charged) << id;
    EXPECT_TRUE(state) << id << " is " << posd::v1::PaymentStatus_Name(payment->status());
  }
  auto reader = store_->OpenReader();
  ASSERT_THAT(reader, IsOk());
  EXPECT_THAT((*reader)->QueryInt64("SELECT count(*) FROM payments WHERE recovery_point <> 'none'"),
              ::testing::Eq(absl::StatusOr<int64_t>(0)));
  EXPECT_EQ(engine_->queries().GetOrder(order_a.id())->status(), posd::v1::ORDER_STATUS_PAID);
}

TEST_F(EngineTest, ACancelAcceptedBeforeACrashIsSentAgainAfterRecovery) {
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  devices_.Progress(payment->id(), TerminalStage::kWaitingForCard);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_AUTHORIZING));
  // Another payment in flight, not canceled: recovery must leave it running.
  posd::v1::Order other_order = PlacedOrder(2000);
  devices_.AddDevice("counter-2");
  auto other_request = PaymentRequest(other_order.id(), 2000);
  other_request.mutable_payment()->set_device_id("counter-2");
  auto other = Call(&Engine::CreatePayment, other_request);
  ASSERT_THAT(other, IsOk());

  // The customer changed their mind; posd accepts the cancel, but the abort
  // never reaches the terminal before posd goes away.
  devices_.DropNextCancel();
  posd::v1::CancelPaymentRequest cancel;
  cancel.set_request_id("cancel-before-crash");
  cancel.set_payment_id(payment->id());
  cancel.set_reason("customer changed their mind");
  ASSERT_THAT(Call(&Engine::CancelPayment, cancel), IsOk());
  devices_.WaitIdle();
  EXPECT_FALSE(devices_.ledger().at(payment->id()).outcome.has_value());
  EXPECT_EQ(devices_.cancels_received(), 1);

  CloseEngine();
  OpenEngine();

  // Recovery asks about the payment and sends the abort again: the terminal
  // cancels it, and posd records that.
  EXPECT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_CANCELED));
  EXPECT_EQ(devices_.ledger().at(payment->id()).outcome, TransactionOutcome::kCanceled);
  EXPECT_EQ(devices_.cancels_received(), 2);
  // The other one was only asked about and goes on.
  EXPECT_TRUE(WaitForPayment(other->id(), posd::v1::PAYMENT_STATUS_AUTHORIZING));
  EXPECT_FALSE(devices_.ledger().at(other->id()).outcome.has_value());
  devices_.Complete(other->id(), TransactionOutcome::kApproved);
  EXPECT_TRUE(WaitForPayment(other->id(), posd::v1::PAYMENT_STATUS_APPROVED));
}

}  // namespace
}  // namespace posd::engine::testing
