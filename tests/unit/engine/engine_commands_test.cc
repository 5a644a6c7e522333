// The engine's commands against a fake terminal: orders, payments, refunds,
// idempotency, in-doubt handling and operator resolution.
#include <thread>

#include "service/engine/resource_rows.h"
#include "service/store/statement.h"
#include "tests/unit/engine/engine_fixture.h"

namespace posd::engine::testing {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

TEST_F(EngineTest, CreateOrderComputesTotals) {
  posd::v1::CreateOrderRequest request;
  request.set_request_id("r1");
  request.mutable_order()->set_currency_code("EUR");
  auto* line = request.mutable_order()->add_lines();
  line->set_sku("tea");
  line->set_quantity(3);
  line->mutable_unit_price()->set_amount_minor(250);
  auto order = Call(&Engine::CreateOrder, request);
  ASSERT_THAT(order, IsOk());
  EXPECT_EQ(order->status(), posd::v1::ORDER_STATUS_OPEN);
  EXPECT_EQ(order->total().amount_minor(), 750);
  EXPECT_EQ(order->amount_due().amount_minor(), 750);
  EXPECT_EQ(order->lines(0).line_id(), "1");
  EXPECT_GT(order->last_event_sequence(), 0u);
  auto stored = engine_->queries().GetOrder(order->id());
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->total().amount_minor(), 750);
}

TEST_F(EngineTest, CreateOrderRefusesBadInput) {
  posd::v1::CreateOrderRequest request;
  request.set_request_id("bad-currency");
  request.mutable_order()->set_currency_code("XXY");
  EXPECT_THAT(Call(&Engine::CreateOrder, request),
              StatusIs(Code::kInvalidArgument, HasSubstr("currency_code")));
  request.set_request_id("bad-line");
  request.mutable_order()->set_currency_code("EUR");
  request.mutable_order()->add_lines()->set_sku("x");  // quantity 0
  EXPECT_THAT(Call(&Engine::CreateOrder, request),
              StatusIs(Code::kInvalidArgument, HasSubstr("quantity")));
  request.set_request_id("");
  EXPECT_THAT(Call(&Engine::CreateOrder, request),
              StatusIs(Code::kInvalidArgument, HasSubstr("request_id")));
}

TEST_F(EngineTest, SameRequestIdSameArgumentsReturnsTheFirstResult) {
  posd::v1::CreateOrderRequest request;
  request.set_request_id("same");
  request.mutable_order()->set_currency_code("EUR");
  auto first = Call(&Engine::CreateOrder, request);
  auto second = Call(&Engine::CreateOrder, request);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(first->id(), second->id());
  auto list = engine_->queries().ListOrders({});
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->orders_size(), 1);
}

TEST_F(EngineTest, SameRequestIdOtherArgumentsIsRefused) {
  posd::v1::CreateOrderRequest request;
  request.set_request_id("same");
  request.mutable_order()->set_currency_code("EUR");
  ASSERT_THAT(Call(&Engine::CreateOrder, request), IsOk());
  request.mutable_order()->set_note("different");
  EXPECT_THAT(Call(&Engine::CreateOrder, request),
              StatusIs(Code::kAlreadyExists, HasSubstr("other arguments")));
  // Another method with the same id too.
  posd::v1::PlaceOrderRequest place;
  place.set_request_id("same");
  place.set_order_id("ord_x");
  EXPECT_THAT(Call(&Engine::PlaceOrder, place), StatusIs(Code::kAlreadyExists));
}

TEST_F(EngineTest, ACommandThatFailedRecordsNothingAndMayBeRetried) {
  posd::v1::Order order = PlacedOrder(1000);
  auto request = PaymentRequest(order.id(), 1000);
  request.mutable_payment()->set_device_id("nowhere");
  EXPECT_THAT(Call(&Engine::CreatePayment, request),
              StatusIs(Code::kNotFound, HasSubstr("no terminal named nowhere")));
  devices_.AddDevice("nowhere");
  devices_.SetAutoOutcome("nowhere", TransactionOutcome::kApproved);
  auto retried = Call(&Engine::CreatePayment, request);
  ASSERT_THAT(retried, IsOk());
  EXPECT_TRUE(WaitForPayment(retried->id(), posd::v1::PAYMENT_STATUS_APPROVED));
}

TEST_F(EngineTest, CancelOrderIsAudited) {
  posd::v1::Order order = PlacedOrder(500);
  posd::v1::CancelOrderRequest cancel;
  cancel.set_request_id("cancel");
  cancel.set_order_id(order.id());
  cancel.set_reason("customer left");
  auto canceled = Call(&Engine::CancelOrder, cancel);
  ASSERT_THAT(canceled, IsOk());
  EXPECT_EQ(canceled->status(), posd::v1::ORDER_STATUS_CANCELED);
  EXPECT_EQ(canceled->cancel_reason(), "customer left");
  auto reader = store_->OpenReader();
  ASSERT_THAT(reader, IsOk());
  EXPECT_THAT((*reader)->QueryInt64("SELECT count(*) FROM audit_log WHERE action = 'cancel_order' "
                                    "AND reason = 'customer left'"),
              ::testing::Eq(absl::StatusOr<int64_t>(1)));
  // Canceled is final.
  cancel.set_request_id("cancel-again");
  EXPECT_THAT(Call(&Engine::CancelOrder, cancel), StatusIs(Code::kFailedPrecondition));
}

TEST_F(EngineTest, PaymentIsDispatchedBeforeTheTerminalHearsOfIt) {
  posd::v1::Order order = PlacedOrder(1200);
  std::string status_at_send;
  devices_.on_sale = [&](const SaleRequest& sale) {
    // Another connection sees only committed data.
    auto reader = store_->OpenReader();
    ASSERT_THAT(reader, IsOk());
    auto payment = LoadPayment(**reader, sale.transaction_id);
    ASSERT_THAT(payment, IsOk());
    ASSERT_TRUE(payment->has_value());
    status_at_send = posd::v1::PaymentStatus_Name((*payment)->status());
  };
  auto payment = Pay(order.id(), 1200, 100);
  ASSERT_THAT(payment, IsOk());
  EXPECT_EQ(payment->status(), posd::v1::PAYMENT_STATUS_DISPATCHED);
  devices_.WaitIdle();
  EXPECT_EQ(status_at_send, "PAYMENT_STATUS_DISPATCHED");
  EXPECT_EQ(devices_.ledger().at(payment->id()).tip_minor, 100);
}

TEST_F(EngineTest, ApprovedPaymentEndToEnd) {
  posd::v1::Order order = PlacedOrder(1200);
  auto payment = Pay(order.id(), 1200, 150);
  ASSERT_THAT(payment, IsOk());
  devices_.Progress(payment->id(), TerminalStage::kWaitingForCard);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_AUTHORIZING));
  devices_.Complete(payment->id(), TransactionOutcome::kApproved);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  auto approved = engine_->queries().GetPayment(payment->id());
  ASSERT_THAT(approved, IsOk());
  EXPECT_EQ(approved->card().masked_pan(), "411111******1111");
  EXPECT_EQ(approved->card().approval_code(), "A1B2C3");
  EXPECT_EQ(approved->charged_amount().amount_minor(), 1350);
  EXPECT_TRUE(approved->has_completed_at());
  auto paid = engine_->queries().GetOrder(order.id());
  ASSERT_THAT(paid, IsOk());
  EXPECT_EQ(paid->status(), posd::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(paid->amount_due().amount_minor(), 0);
  EXPECT_EQ(paid->tip_total().amount_minor(), 150);
}

TEST_F(EngineTest, DeclinedPaymentLeavesTheOrderPayable) {
  posd::v1::Order order = PlacedOrder(800);
  auto payment = Pay(order.id(), 800);
  ASSERT_THAT(payment, IsOk());
  devices_.Complete(payment->id(), TransactionOutcome::kDeclined);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_DECLINED));
  auto declined = engine_->queries().GetPayment(payment->id());
  EXPECT_EQ(declined->failure_reason(), "insufficient funds");
  EXPECT_EQ(declined->decline_code(), "51");
  EXPECT_EQ(engine_->queries().GetOrder(order.id())->status(), posd::v1::ORDER_STATUS_PLACED);
  EXPECT_THAT(Pay(order.id(), 800), IsOk());
}

TEST_F(EngineTest, SplitPaymentsUntilTheTotalIsCovered) {
  devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
  posd::v1::Order order = PlacedOrder(3000);
  auto first = Pay(order.id(), 1000);
  ASSERT_THAT(first, IsOk());
  ASSERT_TRUE(WaitForPayment(first->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  EXPECT_EQ(engine_->queries().GetOrder(order.id())->status(),
            posd::v1::ORDER_STATUS_PARTIALLY_PAID);
  EXPECT_THAT(Pay(order.id(), 2500), StatusIs(Code::kFailedPrecondition));
  auto second = Pay(order.id(), 2000);
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE(WaitForPayment(second->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  auto paid = engine_->queries().GetOrder(order.id());
  EXPECT_EQ(paid->status(), posd::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(paid->payments_size(), 2);
  EXPECT_EQ(paid->amount_paid().amount_minor(), 3000);
  EXPECT_THAT(Pay(order.id(), 1), StatusIs(Code::kFailedPrecondition));
}

TEST_F(EngineTest, OnlyOnePaymentPerOrderAtATime) {
  posd::v1::Order order = PlacedOrder(3000);
  auto first = Pay(order.id(), 1000);
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(Pay(order.id(), 1000), StatusIs(Code::kFailedPrecondition, HasSubstr(first->id())));
}

TEST_F(EngineTest, LinkLossMakesInDoubtWhichBlocksTheOrder) {
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  devices_.Progress(payment->id(), TerminalStage::kPinEntry);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_AUTHORIZING));
  devices_.LoseLink("counter-1");
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_IN_DOUBT));
  devices_.AddDevice("counter-2");
  auto other = PaymentRequest(order.id(), 1000);
  other.mutable_payment()->set_device_id("counter-2");
  EXPECT_THAT(Call(&Engine::CreatePayment, other),
              StatusIs(Code::kFailedPrecondition, HasSubstr(payment->id())));
  posd::v1::CancelOrderRequest cancel;
  cancel.set_request_id("cancel");
  cancel.set_order_id(order.id());
  EXPECT_THAT(Call(&Engine::CancelOrder, cancel), StatusIs(Code::kFailedPrecondition));
  posd::v1::CancelPaymentRequest cancel_payment;
  cancel_payment.set_request_id("cancel-payment");
  cancel_payment.set_payment_id(payment->id());
  EXPECT_THAT(Call(&Engine::CancelPayment, cancel_payment),
              StatusIs(Code::kFailedPrecondition, HasSubstr("IN_DOUBT")));
}

TEST_F(EngineTest, InDoubtIsResolvedByAStatusQueryWhenTheTerminalIsBack) {
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  devices_.LoseLink("counter-1");
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_IN_DOUBT));
  // The terminal charged the card while posd could not hear it.
  devices_.Complete(payment->id(), TransactionOutcome::kApproved, /*reachable=*/false);
  devices_.Ready("counter-1");
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  EXPECT_GE(devices_.status_queries(), 1);
  EXPECT_EQ(engine_->queries().GetOrder(order.id())->status(), posd::v1::ORDER_STATUS_PAID);
}

TEST_F(EngineTest, InDoubtRequestTheTerminalNeverSawFails) {
  posd::v1::Order order = PlacedOrder(1000);
  devices_.DropNextRequest();
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  devices_.LoseLink("counter-1");
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_IN_DOUBT));
  devices_.Ready("counter-1");
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_FAILED));
  EXPECT_EQ(devices_.ledger().count(payment->id()), 0u);
  EXPECT_THAT(Pay(order.id(), 1000), IsOk());
}

TEST_F(EngineTest, OperatorResolvesInDoubtWithRoleAndReason) {
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  posd::v1::ResolvePaymentRequest resolve;
  resolve.set_request_id("resolve");
  resolve.set_payment_id(payment->id());
  resolve.set_outcome(posd::v1::RESOLUTION_OUTCOME_APPROVED);
  resolve.set_reason("receipt shows approval 123456");
  resolve.set_approval_code("123456");
  EXPECT_THAT(Call(&Engine::ResolvePayment, resolve),
              StatusIs(Code::kFailedPrecondition, HasSubstr("not IN_DOUBT")));
  devices_.LoseLink("counter-1");
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_IN_DOUBT));
  resolve.set_request_id("resolve-2");
  EXPECT_THAT(Call(&Engine::ResolvePayment, resolve, Actor{"kiosk", "ui"}),
              StatusIs(Code::kPermissionDenied));
  resolve.set_request_id("resolve-3");
  resolve.set_reason("");
  EXPECT_THAT(Call(&Engine::ResolvePayment, resolve), StatusIs(Code::kInvalidArgument));
  resolve.set_request_id("resolve-4");
  resolve.set_reason("receipt shows approval 123456");
  auto resolved = Call(&Engine::ResolvePayment, resolve, Actor{"anna", "operator"});
  ASSERT_THAT(resolved, IsOk());
  EXPECT_EQ(resolved->status(), posd::v1::PAYMENT_STATUS_APPROVED);
  EXPECT_EQ(resolved->resolution().resolved_by(), "anna");
  EXPECT_EQ(resolved->card().approval_code(), "123456");
  EXPECT_EQ(engine_->queries().GetOrder(order.id())->status(), posd::v1::ORDER_STATUS_PAID);
  auto reader = store_->OpenReader();
  ASSERT_THAT(reader, IsOk());
  EXPECT_THAT((*reader)->QueryInt64("SELECT count(*) FROM audit_log WHERE action = "
                                    "'resolve_payment' AND actor = 'anna' AND reason <> ''"),
              ::testing::Eq(absl::StatusOr<int64_t>(1)));
}

TEST_F(EngineTest, CancelInFlightGoesThroughTheTerminal) {
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  posd::v1::CancelPaymentRequest cancel;
  cancel.set_request_id("cancel");
  cancel.set_payment_id(payment->id());
  cancel.set_reason("customer changed mind");
  auto unchanged = Call(&Engine::CancelPayment, cancel, Actor{"kiosk", "ui"});
  ASSERT_THAT(unchanged, IsOk());
  EXPECT_EQ(unchanged->status(), posd::v1::PAYMENT_STATUS_DISPATCHED);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_CANCELED));
  EXPECT_EQ(engine_->queries().GetOrder(order.id())->status(), posd::v1::ORDER_STATUS_PLACED);
}

TEST_F(EngineTest, RefundsPartialSeveralNeverMoreThanCaptured) {
  devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000, 200);
  ASSERT_THAT(payment, IsOk());
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));

  posd::v1::RefundPaymentRequest refund;
  refund.set_request_id("refund-1");
  refund.set_payment_id(payment->id());
  refund.set_reason("wrong item");
  refund.mutable_amount()->set_amount_minor(300);
  refund.mutable_amount()->set_currency_code("EUR");
  EXPECT_THAT(Call(&Engine::RefundPayment, refund, Actor{"kiosk", "ui"}),
              StatusIs(Code::kPermissionDenied));
  auto first = Call(&Engine::RefundPayment, refund);
  ASSERT_THAT(first, IsOk());
  ASSERT_TRUE(WaitForRefund(first->id(), posd::v1::REFUND_STATUS_SUCCEEDED));
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_PARTIALLY_REFUNDED));

  refund.set_request_id("refund-2");
  refund.mutable_amount()->set_amount_minor(901);  // 1200 captured, 300 back: 900 left
  EXPECT_THAT(Call(&Engine::RefundPayment, refund), StatusIs(Code::kFailedPrecondition));
  refund.set_request_id("refund-3");
  refund.mutable_amount()->set_amount_minor(400);
  auto second = Call(&Engine::RefundPayment, refund);
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE(WaitForRefund(second->id(), posd::v1::REFUND_STATUS_SUCCEEDED));

  refund.set_request_id("refund-rest");
  refund.clear_amount();  // everything that remains
  auto rest = Call(&Engine::RefundPayment, refund);
  ASSERT_THAT(rest, IsOk());
  EXPECT_EQ(rest->amount().amount_minor(), 500);
  ASSERT_TRUE(WaitForRefund(rest->id(), posd::v1::REFUND_STATUS_SUCCEEDED));
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_REFUNDED));
  auto refunded = engine_->queries().GetPayment(payment->id());
  EXPECT_EQ(refunded->refunded_amount().amount_minor(), 1200);
  EXPECT_EQ(refunded->refunds_size(), 3);
  EXPECT_EQ(engine_->queries().GetOrder(order.id())->status(), posd::v1::ORDER_STATUS_REFUNDED);
  refund.set_request_id("refund-more");
  EXPECT_THAT(Call(&Engine::RefundPayment, refund), StatusIs(Code::kFailedPrecondition));
}

TEST_F(EngineTest, QuickSaleWithoutAnOrder) {
  devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
  auto payment = Pay("", 450);
  ASSERT_THAT(payment, IsOk());
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
}

}  // namespace
}  // namespace posd::engine::testing
