#include "service/core/refund_rules.h"

#include "service/common/strings.h"
#include "service/common/status_macros.h"

namespace posd::core {
namespace {

absl::Status CheckAmountAndState(const Payment& payment, const Money& amount) {
  if (amount.currency() != payment.currency()) {
    return absl::InvalidArgumentError(posd::StrCat("refund of ", amount.ToString(),
                                                   " is not in the currency of payment ",
                                                   payment.id.str(), " (",
                                                   payment.currency().code(), ")"));
  }
  if (!amount.is_positive()) {
    return absl::InvalidArgumentError(
        posd::StrCat("refund amount must be > 0, got ", amount.ToString()));
  }
  POSD_RETURN_IF_ERROR(CheckAmountLimit(amount, "amount"));
  if (payment.state != PaymentState::kApproved &&
      payment.state != PaymentState::kPartiallyRefunded) {
    return absl::FailedPreconditionError(posd::StrCat(
        "payment ", payment.id.str(), " is ", ToString(payment.state),
        "; only APPROVED or PARTIALLY_REFUNDED payments can be refunded"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Money> RefundableAmount(const Payment& payment, std::span<const Refund> refunds) {
  POSD_ASSIGN_OR_RETURN(Money captured, payment.Captured());
  POSD_ASSIGN_OR_RETURN(Money refundable, captured.Subtract(payment.refunded_amount));
  for (const Refund& refund : refunds) {
    if (refund.payment_id != payment.id) {
      return absl::InvalidArgumentError(posd::StrCat("refund ", refund.id.str(),
                                                     " belongs to payment ",
                                                     refund.payment_id.str(), ", not ",
                                                     payment.id.str()));
    }
    if (ReservesAmount(refund.state)) {
      POSD_ASSIGN_OR_RETURN(refundable, refundable.Subtract(refund.amount));
    }
  }
  return refundable;
}

absl::Status ValidateRefundRequest(const Payment& payment, std::span<const Refund> refunds,
                                   const Money& amount) {
  POSD_RETURN_IF_ERROR(CheckAmountAndState(payment, amount));
  POSD_ASSIGN_OR_RETURN(Money refundable, RefundableAmount(payment, refunds));
  if (amount > refundable) {
    return absl::OutOfRangeError(posd::StrCat(
        "refund of ", amount.ToString(), " exceeds the ", refundable.ToString(),
        " still refundable on payment ", payment.id.str(), " (captured ",
        payment.Captured()->ToString(), ", refunded ", payment.refunded_amount.ToString(),
        ", pending refunds hold the rest)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<CompletedRefund> ApplyCompletedRefund(const Payment& payment, const Money& amount) {
  POSD_RETURN_IF_ERROR(CheckAmountAndState(payment, amount));
  POSD_ASSIGN_OR_RETURN(Money captured, payment.Captured());
  POSD_ASSIGN_OR_RETURN(Money refunded, payment.refunded_amount.Add(amount));
  if (refunded > captured) {
    return absl::OutOfRangeError(posd::StrCat("refund of ", amount.ToString(), " on payment ",
                                              payment.id.str(), " would bring refunds to ",
                                              refunded.ToString(), ", more than the captured ",
                                              captured.ToString()));
  }
  return CompletedRefund{
      .refunded_amount = refunded,
      .event = refunded == captured ? PaymentEvent::kRefundCompletedFull
                                    : PaymentEvent::kRefundCompletedPartial,
  };
}

}  // namespace posd::core
