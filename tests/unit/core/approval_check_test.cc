// A terminal's approval against the sale posd sent (approval_check.h), and
// what a partial approval does to the order's paid sum and to refunds.
#include "service/core/approval_check.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/error_info.h"
#include "service/core/order_payments.h"
#include "service/core/refund_rules.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/core/test_values.h"

namespace posd::core {
namespace {

using ::posd::core::testing::Eur;
using ::posd::core::testing::EurPayment;
using ::posd::core::testing::EurRefund;
using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

// 12.50 EUR + 1.00 EUR tip, as sent to the terminal.
Payment Sale() { return EurPayment(1, nullptr, 1250, PaymentState::kAuthorizing, 100); }

ReportedApproval Honest(const Payment& sale) {
  return ReportedApproval{.transaction_id = sale.id.str(),
                          .currency = "EUR",
                          .amount_minor = sale.amount.minor_units(),
                          .tip_minor = sale.tip.minor_units()};
}

void ExpectMismatch(const absl::StatusOr<ApprovedCharge>& checked, std::string_view why) {
  EXPECT_THAT(checked, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(why)));
  const auto details = GetErrorDetails(checked.status());
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, ErrorReason::kAmountMismatch);
}

TEST(ApprovalCheckTest, AnHonestApprovalChargesAmountPlusTip) {
  const Payment sale = Sale();
  auto charge = CheckApproval(sale, Honest(sale));
  ASSERT_THAT(charge, IsOk());
  EXPECT_EQ(charge->amount, Eur(1250));
  EXPECT_EQ(charge->tip, Eur(100));
  EXPECT_EQ(charge->charged, Eur(1350));
  EXPECT_FALSE(charge->partial);
}

TEST(ApprovalCheckTest, EveryLieIsAMismatch) {
  const Payment sale = Sale();
  ReportedApproval lie = Honest(sale);
  lie.transaction_id = "pay_someone_else";
  ExpectMismatch(CheckApproval(sale, lie), "names transaction");
  lie = Honest(sale);
  lie.currency = "USD";
  ExpectMismatch(CheckApproval(sale, lie), "USD");
  lie.currency = "";
  ExpectMismatch(CheckApproval(sale, lie), "the sale in EUR");
  lie = Honest(sale);
  lie.amount_minor = 1251;
  ExpectMismatch(CheckApproval(sale, lie), "more than");
  lie.amount_minor = 0;
  ExpectMismatch(CheckApproval(sale, lie), "approves 0.00 EUR");
  lie.amount_minor = -5;
  ExpectMismatch(CheckApproval(sale, lie), "approves");
  lie = Honest(sale);
  lie.amount_minor = 625;  // half, from a terminal that never said it could
  ExpectMismatch(CheckApproval(sale, lie), "did not declare partial approval");
  lie = Honest(sale);
  lie.tip_minor = 101;
  ExpectMismatch(CheckApproval(sale, lie), "tip");
  lie.tip_minor = std::numeric_limits<int64_t>::max();  // would wrap amount + tip
  ExpectMismatch(CheckApproval(sale, lie), "tip");
}

TEST(ApprovalCheckTest, ATipEnteredOnTheTerminalIsBoundedLikeOneFromTheApi) {
  const Payment sale = Sale();
  ReportedApproval entered = Honest(sale);
  entered.tip_entry_allowed = true;
  entered.tip_minor = 300;
  auto charge = CheckApproval(sale, entered);
  ASSERT_THAT(charge, IsOk());
  EXPECT_EQ(charge->charged, Eur(1550));
  entered.tip_minor = kMaxAmountMinor + 1;
  ExpectMismatch(CheckApproval(sale, entered), "tip");
  entered.tip_minor = -1;
  ExpectMismatch(CheckApproval(sale, entered), "tip");
}

TEST(ApprovalCheckTest, ADeclaredPartialApprovalIsWhatTheOrderCountsAndRefundsAreCappedBy) {
  const Order order = testing::EurOrder(1, 1120);
  Payment payment = EurPayment(1, &order, 1120, PaymentState::kAuthorizing, 100);
  ReportedApproval half = Honest(payment);
  half.amount_minor = 560;
  half.partial_approval_declared = true;
  auto charge = CheckApproval(payment, half);
  ASSERT_THAT(charge, IsOk());
  EXPECT_TRUE(charge->partial);
  EXPECT_EQ(charge->charged, Eur(660));

  payment.state = PaymentState::kApproved;
  payment.charged = charge->charged;
  EXPECT_THAT(payment.Validate(), IsOk());
  EXPECT_EQ(*payment.Captured(), Eur(660));
  EXPECT_EQ(*payment.ApprovedAmount(), Eur(560));
  EXPECT_EQ(*PaidTowardOrder(payment), Eur(560));
  const Payment paid[] = {payment};
  EXPECT_EQ(*RemainingToPay(order, paid), Eur(560));
  // Refunds: up to what was charged, not what was asked.
  EXPECT_EQ(*RefundableAmount(payment, {}), Eur(660));
  EXPECT_THAT(ValidateRefundRequest(payment, {}, Eur(660)), IsOk());
  EXPECT_THAT(ValidateRefundRequest(payment, {}, Eur(661)),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(ValidateRefundRequest(payment, {}, Eur(1220)),
              StatusIs(absl::StatusCode::kOutOfRange));
  const Refund back = EurRefund(1, payment, 660, RefundState::kCompleted);
  auto completed = ApplyCompletedRefund(payment, back.amount);
  ASSERT_THAT(completed, IsOk());
  EXPECT_EQ(completed->event, PaymentEvent::kRefundCompletedFull);
}

TEST(ApprovalCheckTest, AChargedAmountOutsideTheSaleIsAnInvalidPayment) {
  Payment payment = EurPayment(1, nullptr, 1000, PaymentState::kApproved, 100);
  payment.charged = Eur(1101);
  EXPECT_THAT(payment.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  payment.charged = Eur(99);  // less than the tip
  EXPECT_THAT(payment.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  payment.charged = Eur(1100);
  EXPECT_THAT(payment.Validate(), IsOk());
}

TEST(MoneyLimitTest, AmountsAndTipsAreBoundedSoNoChargeCanWrap) {
  EXPECT_THAT(CheckAmountLimit(Eur(kMaxAmountMinor), "x"), IsOk());
  EXPECT_THAT(CheckAmountLimit(Eur(-kMaxAmountMinor), "x"), IsOk());
  const absl::Status over = CheckAmountLimit(Eur(kMaxAmountMinor + 1), "payment.tip");
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("payment.tip")));
  EXPECT_EQ(GetErrorDetails(over)->reason, ErrorReason::kInvalidField);
  EXPECT_EQ(GetErrorDetails(over)->metadata.at("field"), "payment.tip");
  // A tip near 2^63: the payment is invalid before anything adds it up.
  Payment payment = EurPayment(1, nullptr, 1000, PaymentState::kCreated,
                               std::numeric_limits<int64_t>::max() - 10);
  EXPECT_THAT(payment.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(payment.ChargeTotal(), StatusIs(absl::StatusCode::kOutOfRange));
  // The largest amount and tip still sum without overflow.
  payment = EurPayment(1, nullptr, kMaxAmountMinor, PaymentState::kApproved, kMaxAmountMinor);
  EXPECT_THAT(payment.Validate(), IsOk());
  EXPECT_EQ(*payment.Captured(), Eur(2 * kMaxAmountMinor));
}

}  // namespace
}  // namespace posd::core
