#include "service/core/order_payments.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/core/test_values.h"

namespace posd::core {
namespace {

using ::posd::core::testing::Eur;
using ::posd::core::testing::EurOrder;
using ::posd::core::testing::EurPayment;
using ::posd::core::testing::Jpy;
using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

TEST(OrderPaymentsTest, RemainingCountsApprovedAmountsWithoutTips) {
  const Order order = EurOrder(1, 9000);
  const std::vector<Payment> payments = {
      EurPayment(1, &order, 3000, PaymentState::kApproved, 500),  // tip does not count
      EurPayment(2, &order, 3000, PaymentState::kDeclined),
      EurPayment(3, &order, 2000, PaymentState::kFailed),
  };
  EXPECT_EQ(*RemainingToPay(order, payments), Eur(6000));
  EXPECT_EQ(*RemainingToPay(order, {}), Eur(9000));
}

TEST(OrderPaymentsTest, RefundsCountAgainstTheAmountBeforeTheTip) {
  const Order order = EurOrder(1, 9000);
  Payment payment = EurPayment(1, &order, 3000, PaymentState::kPartiallyRefunded, 500, 1000);
  EXPECT_EQ(*PaidTowardOrder(payment), Eur(2000));
  payment.refunded_amount = Eur(3200);  // all of the amount and 2.00 of the tip
  EXPECT_EQ(*PaidTowardOrder(payment), Eur(0));
  payment.state = PaymentState::kRefunded;
  payment.refunded_amount = Eur(3500);
  EXPECT_EQ(*PaidTowardOrder(payment), Eur(0));
  EXPECT_EQ(*PaidTowardOrder(EurPayment(2, &order, 3000, PaymentState::kInDoubt)), Eur(0));
}

TEST(OrderPaymentsTest, SplitBillUpToTheTotal) {
  const Order order = EurOrder(1, 9000);
  std::vector<Payment> payments;
  EXPECT_THAT(CheckNewPayment(order, payments, Eur(3000), Eur(200)), IsOk());
  EXPECT_THAT(CheckNewPayment(order, payments, Eur(9000), Eur(0)), IsOk());
  EXPECT_THAT(CheckNewPayment(order, payments, Eur(9001), Eur(0)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("exceeds the 90.00 EUR")));

  payments.push_back(EurPayment(1, &order, 3000, PaymentState::kApproved, 200));
  Order partially = order;
  partially.state = *NextOrderState(order.state, *OrderEventForApprovedPayment(order, payments));
  EXPECT_EQ(partially.state, OrderState::kPartiallyPaid);
  // A large tip is fine: only the amount is limited by what remains.
  EXPECT_THAT(CheckNewPayment(partially, payments, Eur(6000), Eur(100000)), IsOk());
  EXPECT_THAT(CheckNewPayment(partially, payments, Eur(6001), Eur(0)),
              StatusIs(absl::StatusCode::kOutOfRange));

  payments.push_back(EurPayment(2, &order, 6000, PaymentState::kApproved));
  EXPECT_EQ(*OrderEventForApprovedPayment(partially, payments),
            OrderEvent::kPaymentApprovedCovering);
  Order paid = partially;
  paid.state = *NextOrderState(paid.state, OrderEvent::kPaymentApprovedCovering);
  EXPECT_EQ(paid.state, OrderState::kPaid);
  EXPECT_EQ(*RemainingToPay(paid, payments), Eur(0));
  EXPECT_THAT(CheckNewPayment(paid, payments, Eur(1), Eur(0)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("PAID")));
}

TEST(OrderPaymentsTest, OnlyOnePaymentAtATime) {
  const Order order = EurOrder(1, 9000);
  for (PaymentState state : kAllPaymentStates) {
    if (WasApproved(state)) continue;  // covered by the split tests
    const std::vector<Payment> payments = {EurPayment(7, &order, 1000, state)};
    const absl::Status status = CheckNewPayment(order, payments, Eur(1000), Eur(0));
    if (IsTerminal(state)) {
      EXPECT_THAT(status, IsOk()) << state;
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(std::string(ToString(state)))))
          << state;
    }
  }
}

TEST(OrderPaymentsTest, NewPaymentArgumentAndStateChecks) {
  Order order = EurOrder(1, 9000, OrderState::kOpen);
  EXPECT_THAT(CheckNewPayment(order, {}, Eur(100), Eur(0)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("OPEN")));
  order.state = OrderState::kPlaced;
  EXPECT_THAT(CheckNewPayment(order, {}, Eur(0), Eur(0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckNewPayment(order, {}, Eur(100), Eur(-1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tip")));
  EXPECT_THAT(CheckNewPayment(order, {}, Jpy(100), Jpy(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("currency")));
  EXPECT_THAT(CheckNewPayment(order, {}, Eur(100), Jpy(0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const Order other = EurOrder(2, 100);
  const std::vector<Payment> foreign = {EurPayment(1, &other, 100, PaymentState::kDeclined)};
  EXPECT_THAT(CheckNewPayment(order, foreign, Eur(100), Eur(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not belong")));
  const std::vector<Payment> quick_sale = {EurPayment(1, nullptr, 100, PaymentState::kDeclined)};
  EXPECT_THAT(RemainingToPay(order, quick_sale), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OrderPaymentsTest, RefundEventsFollowPaymentStates) {
  const Order order = EurOrder(1, 9000, OrderState::kPaid);
  std::vector<Payment> payments = {
      EurPayment(1, &order, 3000, PaymentState::kRefunded, 0, 3000),
      EurPayment(2, &order, 6000, PaymentState::kPartiallyRefunded, 0, 100),
      EurPayment(3, &order, 6000, PaymentState::kDeclined),
  };
  EXPECT_EQ(*OrderEventForCompletedRefund(order, payments), OrderEvent::kRefundCompletedPartial);
  payments[1].state = PaymentState::kRefunded;
  payments[1].refunded_amount = Eur(6000);
  EXPECT_EQ(*OrderEventForCompletedRefund(order, payments), OrderEvent::kRefundCompletedFull);
  EXPECT_EQ(*NextOrderState(order.state, OrderEvent::kRefundCompletedFull), OrderState::kRefunded);
  const std::vector<Payment> none = {EurPayment(4, &order, 1, PaymentState::kFailed)};
  EXPECT_THAT(OrderEventForCompletedRefund(order, none),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(OrderPaymentsTest, CancelOnlyWithoutApprovedOrUnfinishedPayments) {
  Order order = EurOrder(1, 9000, OrderState::kPlaced);
  EXPECT_THAT(CheckOrderCancelable(order, {}), IsOk());
  const std::vector<Payment> failed = {EurPayment(1, &order, 100, PaymentState::kDeclined)};
  EXPECT_THAT(CheckOrderCancelable(order, failed), IsOk());
  for (PaymentState state : {PaymentState::kCreated, PaymentState::kDispatched,
                             PaymentState::kAuthorizing, PaymentState::kInDoubt}) {
    const std::vector<Payment> unfinished = {EurPayment(2, &order, 100, state)};
    EXPECT_THAT(CheckOrderCancelable(order, unfinished),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("might still charge")))
        << state;
  }
  const std::vector<Payment> approved = {EurPayment(3, &order, 100, PaymentState::kApproved)};
  EXPECT_THAT(CheckOrderCancelable(order, approved),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refund it")));
  order.state = OrderState::kPartiallyPaid;
  EXPECT_THAT(CheckOrderCancelable(order, approved),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refund them")));
}

}  // namespace
}  // namespace posd::core
