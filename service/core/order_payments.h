// Rules that relate an order to its payments: split bills, what remains to
// pay, when a new payment may start, which order event a payment or refund
// outcome causes, and when an order may be canceled. Pure functions.
//
// Decisions:
// - Tips are on top: only Payment::amount counts toward the order total.
// - A refund counts against the payment's amount first and its tip last
//   (returning an item gives back what the item cost; the tip goes back only
//   with everything else). So a payment contributes
//   amount − min(refunded_amount, amount) to its order once approved.
// - One payment at a time per order: while any payment of the order is not
//   terminal (CREATED, DISPATCHED, AUTHORIZING, IN_DOUBT) no other may start.
//   Together with "never more than what remains" this is what keeps a bill
//   from being charged twice.
//
// Every function takes `payments`: all payments recorded for the order, in
// any order. A payment of another order (or a quick sale) in it is a
// caller's mistake: INVALID_ARGUMENT.
#pragma once

#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/core/money.h"
#include "service/core/order.h"
#include "service/core/order_state_machine.h"
#include "service/core/payment.h"

namespace posd::core {

// What `payment` contributes toward its order's total: zero unless it was
// approved, then approved − min(refunded_amount, approved), where approved is
// Payment::ApprovedAmount() (the amount, or less after a partial approval).
absl::StatusOr<Money> PaidTowardOrder(const Payment& payment);

// order.Total() − Σ PaidTowardOrder(payments). Negative would mean the order
// is overpaid, which these rules prevent; it is returned, not hidden.
absl::StatusOr<Money> RemainingToPay(const Order& order, std::span<const Payment> payments);

// Whether a new payment of `amount` (+ `tip`) may start for `order`. In order:
//   INVALID_ARGUMENT     amount <= 0, tip < 0, or not in the order's currency;
//   FAILED_PRECONDITION  the order does not accept payments (see
//                        AcceptsPayments), or another payment of it is not
//                        terminal (named in the message);
//   OUT_OF_RANGE         amount > RemainingToPay(order, payments).
absl::Status CheckNewPayment(const Order& order, std::span<const Payment> payments,
                             const Money& amount, const Money& tip);

// The order event for a payment that was just approved; `payments` include
// it, already APPROVED. kPaymentApprovedCovering when nothing remains to pay.
absl::StatusOr<OrderEvent> OrderEventForApprovedPayment(const Order& order,
                                                        std::span<const Payment> payments);

// The order event for a refund that just completed; `payments` show the
// refund already applied. kRefundCompletedFull when every approved payment
// of the order is now REFUNDED. FAILED_PRECONDITION if none was approved.
absl::StatusOr<OrderEvent> OrderEventForCompletedRefund(const Order& order,
                                                        std::span<const Payment> payments);

// Whether `order` may be canceled: its state must allow Cancel (not once a
// payment was approved: refund instead), and no payment of it may be
// unfinished (CREATED, DISPATCHED, AUTHORIZING or IN_DOUBT: it might still
// charge). FAILED_PRECONDITION otherwise.
absl::Status CheckOrderCancelable(const Order& order, std::span<const Payment> payments);

}  // namespace posd::core
