// Rules for refunding a payment. Pure functions.
//
// What can be refunded is what was captured (amount + tip: the tip may be
// returned too; after a partial approval, only what the terminal charged) minus completed refunds minus refunds still pending or in
// doubt, which may yet pay out. Holding those back is what keeps two refunds
// issued at the same time from returning more than was charged.
#pragma once

#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/core/money.h"
#include "service/core/payment.h"
#include "service/core/payment_state_machine.h"
#include "service/core/refund.h"

namespace posd::core {

// Captured() − refunded_amount − amounts of `refunds` that ReservesAmount().
// `refunds` are the refunds recorded for `payment` (INVALID_ARGUMENT if one
// names another payment or currency); completed ones are already counted in
// refunded_amount and are not subtracted twice.
absl::StatusOr<Money> RefundableAmount(const Payment& payment, std::span<const Refund> refunds);

// Whether a new refund of `amount` may be issued on `payment`. In order:
//   INVALID_ARGUMENT     amount <= 0, above kMaxAmountMinor, or not in the
//                        payment's currency;
//   FAILED_PRECONDITION  payment not APPROVED or PARTIALLY_REFUNDED;
//   OUT_OF_RANGE         amount > RefundableAmount(payment, refunds).
absl::Status ValidateRefundRequest(const Payment& payment, std::span<const Refund> refunds,
                                   const Money& amount);

// The payment's side of a completed refund.
struct CompletedRefund {
  Money refunded_amount;  // the payment's new refunded_amount
  PaymentEvent event;     // kRefundCompletedFull when it reaches Captured()
};

// Applies a completed refund of `amount` to `payment` (not yet counted in its
// refunded_amount). The same error codes as ValidateRefundRequest; only
// completed refunds are counted, since this one was itself the reserved one.
absl::StatusOr<CompletedRefund> ApplyCompletedRefund(const Payment& payment, const Money& amount);

}  // namespace posd::core
