#include "service/core/refund_rules.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/core/test_values.h"

namespace posd::core {
namespace {

using ::posd::core::testing::Eur;
using ::posd::core::testing::EurPayment;
using ::posd::core::testing::EurRefund;
using ::posd::core::testing::Jpy;
using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RefundRulesTest, RefundableIsCapturedIncludingTipMinusRefunded) {
  const Payment payment = EurPayment(1, nullptr, 1000, PaymentState::kPartiallyRefunded, 200, 300);
  EXPECT_EQ(*RefundableAmount(payment, {}), Eur(900));
  EXPECT_THAT(ValidateRefundRequest(payment, {}, Eur(900)), IsOk());
  EXPECT_THAT(ValidateRefundRequest(payment, {}, Eur(901)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("exceeds the 9.00 EUR")));
}

TEST(RefundRulesTest, PendingAndInDoubtRefundsHoldTheirAmount) {
  const Payment payment = EurPayment(1, nullptr, 1000, PaymentState::kApproved);
  const std::vector<Refund> refunds = {
      EurRefund(1, payment, 300, RefundState::kPending),
      EurRefund(2, payment, 200, RefundState::kInDoubt),
      EurRefund(3, payment, 999, RefundState::kFailed),     // gave nothing back
      EurRefund(4, payment, 999, RefundState::kCompleted),  // counted in refunded_amount
  };
  EXPECT_EQ(*RefundableAmount(payment, refunds), Eur(500));
  EXPECT_THAT(ValidateRefundRequest(payment, refunds, Eur(500)), IsOk());
  EXPECT_THAT(ValidateRefundRequest(payment, refunds, Eur(501)),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(RefundRulesTest, RefusesRefundsOfPaymentsThatWereNotCharged) {
  for (PaymentState state : kAllPaymentStates) {
    const int64_t refunded = state == PaymentState::kRefunded            ? 1000
                             : state == PaymentState::kPartiallyRefunded ? 100
                                                                          : 0;
    const Payment payment = EurPayment(1, nullptr, 1000, state, 0, refunded);
    const absl::Status status = ValidateRefundRequest(payment, {}, Eur(1));
    if (state == PaymentState::kApproved || state == PaymentState::kPartiallyRefunded) {
      EXPECT_THAT(status, IsOk()) << state;
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(std::string(ToString(state)))))
          << state;
    }
  }
}

TEST(RefundRulesTest, RefusesBadAmounts) {
  const Payment payment = EurPayment(1, nullptr, 1000, PaymentState::kApproved);
  EXPECT_THAT(ValidateRefundRequest(payment, {}, Eur(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("> 0")));
  EXPECT_THAT(ValidateRefundRequest(payment, {}, Eur(-5)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateRefundRequest(payment, {}, Jpy(5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("currency")));
  // Argument errors win over state errors: the request is wrong whatever the state.
  const Payment declined = EurPayment(2, nullptr, 1000, PaymentState::kDeclined);
  EXPECT_THAT(ValidateRefundRequest(declined, {}, Jpy(5)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RefundRulesTest, RefusesRefundsOfAnotherPayment) {
  const Payment payment = EurPayment(1, nullptr, 1000, PaymentState::kApproved);
  const Payment other = EurPayment(2, nullptr, 1000, PaymentState::kApproved);
  const std::vector<Refund> refunds = {EurRefund(1, other, 10, RefundState::kPending)};
  EXPECT_THAT(RefundableAmount(payment, refunds),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("belongs to payment")));
}

TEST(RefundRulesTest, CompletedRefundsMovePartialThenFull) {
  Payment payment = EurPayment(1, nullptr, 1000, PaymentState::kApproved, 100);
  absl::StatusOr<CompletedRefund> first = ApplyCompletedRefund(payment, Eur(400));
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->refunded_amount, Eur(400));
  EXPECT_EQ(first->event, PaymentEvent::kRefundCompletedPartial);
  payment.refunded_amount = first->refunded_amount;
  payment.state = *NextPaymentState(payment.state, first->event);
  EXPECT_EQ(payment.state, PaymentState::kPartiallyRefunded);

  EXPECT_THAT(ApplyCompletedRefund(payment, Eur(701)), StatusIs(absl::StatusCode::kOutOfRange));
  absl::StatusOr<CompletedRefund> rest = ApplyCompletedRefund(payment, Eur(700));
  ASSERT_THAT(rest, IsOk());
  EXPECT_EQ(rest->refunded_amount, Eur(1100));  // the tip went back too
  EXPECT_EQ(rest->event, PaymentEvent::kRefundCompletedFull);
  payment.refunded_amount = rest->refunded_amount;
  payment.state = *NextPaymentState(payment.state, rest->event);
  EXPECT_EQ(payment.state, PaymentState::kRefunded);
  EXPECT_THAT(payment.Validate(), IsOk());

  EXPECT_THAT(ApplyCompletedRefund(payment, Eur(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace posd::core
