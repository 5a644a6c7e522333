// The order state machine: states, events and the transition table.
//
//   OPEN --Place--> PLACED --payment approved--> PARTIALLY_PAID | PAID
//   OPEN, PLACED --Cancel--> CANCELED
//   PARTIALLY_PAID, PAID --refund completed--> same state | REFUNDED
//
// Rules (the full table is in order_state_machine.cc and OrderTransitions()):
// - Lines are edited only while OPEN. Placing freezes them, so the amount a
//   payment is asked for cannot change under it. A discount may still be
//   applied while PLACED (a beforePayment hook may grant one), but not once
//   any payment was approved: then the customer gets a refund instead.
// - Payments are accepted only in PLACED and PARTIALLY_PAID.
//   PaymentApprovedCovering is the approval after which nothing remains to
//   pay; PaymentApprovedPartial leaves some (order_payments.h decides which).
// - An order with an approved payment (PARTIALLY_PAID, PAID) cannot be
//   canceled: its payments must be refunded. Canceling a PLACED order also
//   requires that no payment is in flight (CheckOrderCancelable in
//   order_payments.h; the table cannot see payments).
// - RefundCompletedFull is the refund after which every approved payment of
//   the order is fully refunded: → REFUNDED. A partial refund keeps the state:
//   a PAID order with one item returned is still paid.
// - CANCELED and REFUNDED are final.
//
// Thread safety: pure functions over constant data.
#pragma once

#include <array>
#include <iosfwd>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace posd::core {

enum class OrderState {
  kOpen,
  kPlaced,
  kPartiallyPaid,
  kPaid,
  kCanceled,
  kRefunded,
};

inline constexpr std::array kAllOrderStates = {
    OrderState::kOpen, OrderState::kPlaced,   OrderState::kPartiallyPaid,
    OrderState::kPaid, OrderState::kCanceled, OrderState::kRefunded,
};

enum class OrderEvent {
  kAddLine,
  kRemoveLine,
  kApplyDiscount,
  kPlace,
  kPaymentApprovedPartial,   // an approved payment that leaves something to pay
  kPaymentApprovedCovering,  // an approved payment after which nothing remains to pay
  kCancel,
  kRefundCompletedPartial,  // a refund after which some approved money remains
  kRefundCompletedFull,     // a refund after which every approved payment is fully refunded
};

inline constexpr std::array kAllOrderEvents = {
    OrderEvent::kAddLine,
    OrderEvent::kRemoveLine,
    OrderEvent::kApplyDiscount,
    OrderEvent::kPlace,
    OrderEvent::kPaymentApprovedPartial,
    OrderEvent::kPaymentApprovedCovering,
    OrderEvent::kCancel,
    OrderEvent::kRefundCompletedPartial,
    OrderEvent::kRefundCompletedFull,
};

// "OPEN", "PARTIALLY_PAID", ... and back; INVALID_ARGUMENT for an unknown name.
std::string_view ToString(OrderState state);
absl::StatusOr<OrderState> ParseOrderState(std::string_view name);
// "AddLine", "PaymentApprovedCovering", ... and back; INVALID_ARGUMENT for an unknown name.
std::string_view ToString(OrderEvent event);
absl::StatusOr<OrderEvent> ParseOrderEvent(std::string_view name);
std::ostream& operator<<(std::ostream& os, OrderState state);
std::ostream& operator<<(std::ostream& os, OrderEvent event);

struct OrderTransition {
  OrderState from;
  OrderEvent event;
  OrderState to;
};

// Every allowed transition; any (state, event) pair not listed is refused.
std::span<const OrderTransition> OrderTransitions();

// The state after `event`, or FAILED_PRECONDITION naming both, e.g. "order in
// state PAID cannot take event Cancel: ...", sometimes with a hint.
absl::StatusOr<OrderState> NextOrderState(OrderState state, OrderEvent event);

// No event is accepted any more: CANCELED, REFUNDED.
bool IsFinal(OrderState state);
// Lines may be added or removed: OPEN.
bool IsEditable(OrderState state);
// A payment may be started: PLACED, PARTIALLY_PAID.
bool AcceptsPayments(OrderState state);

}  // namespace posd::core
