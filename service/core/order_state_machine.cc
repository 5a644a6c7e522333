#include "service/core/order_state_machine.h"

#include <optional>
#include <ostream>

#include "service/common/strings.h"

namespace posd::core {
namespace {

using S = OrderState;
using E = OrderEvent;

// The rules. Any pair not listed here is refused. Keep rows grouped by state.
constexpr OrderTransition kTransitions[] = {
    {S::kOpen, E::kAddLine, S::kOpen},
    {S::kOpen, E::kRemoveLine, S::kOpen},
    {S::kOpen, E::kApplyDiscount, S::kOpen},
    {S::kOpen, E::kPlace, S::kPlaced},
    {S::kOpen, E::kCancel, S::kCanceled},

    {S::kPlaced, E::kApplyDiscount, S::kPlaced},
    {S::kPlaced, E::kPaymentApprovedPartial, S::kPartiallyPaid},
    {S::kPlaced, E::kPaymentApprovedCovering, S::kPaid},
    {S::kPlaced, E::kCancel, S::kCanceled},

    {S::kPartiallyPaid, E::kPaymentApprovedPartial, S::kPartiallyPaid},
    {S::kPartiallyPaid, E::kPaymentApprovedCovering, S::kPaid},
    {S::kPartiallyPaid, E::kRefundCompletedPartial, S::kPartiallyPaid},
    {S::kPartiallyPaid, E::kRefundCompletedFull, S::kRefunded},

    {S::kPaid, E::kRefundCompletedPartial, S::kPaid},
    {S::kPaid, E::kRefundCompletedFull, S::kRefunded},
};

struct Hint {
  OrderState state;
  OrderEvent event;
  std::string_view text;
};
constexpr Hint kHints[] = {
    {S::kPartiallyPaid, E::kCancel, "it has approved payments, refund them instead"},
    {S::kPaid, E::kCancel, "it has approved payments, refund them instead"},
    {S::kPlaced, E::kAddLine, "a placed order is frozen; cancel it and open a new one"},
    {S::kPlaced, E::kRemoveLine, "a placed order is frozen; cancel it and open a new one"},
    {S::kOpen, E::kPaymentApprovedPartial, "place the order before paying"},
    {S::kOpen, E::kPaymentApprovedCovering, "place the order before paying"},
    {S::kPaid, E::kPaymentApprovedPartial, "the order is already paid"},
    {S::kPaid, E::kPaymentApprovedCovering, "the order is already paid"},
    {S::kPartiallyPaid, E::kApplyDiscount,
     "a payment was already approved; refund the difference instead"},
};

constexpr std::size_t kStates = std::size(kAllOrderStates);
constexpr std::size_t kEvents = std::size(kAllOrderEvents);

using Lookup = std::array<std::array<std::optional<OrderState>, kEvents>, kStates>;

// The kAll arrays list every enum value in order (so an enum value indexes
// the lookup) and no (state, event) pair has two rows.
constexpr bool TableIsConsistent() {
  for (std::size_t i = 0; i < kStates; ++i) {
    if (static_cast<std::size_t>(kAllOrderStates[i]) != i) return false;
  }
  for (std::size_t i = 0; i < kEvents; ++i) {
    if (static_cast<std::size_t>(kAllOrderEvents[i]) != i) return false;
  }
  for (std::size_t i = 0; i < std::size(kTransitions); ++i) {
    for (std::size_t j = i + 1; j < std::size(kTransitions); ++j) {
      if (kTransitions[i].from == kTransitions[j].from &&
          kTransitions[i].event == kTransitions[j].event) {
        return false;
      }
    }
  }
  return true;
}
static_assert(TableIsConsistent(), "order transition table: order or duplicate rows");

// A dense copy of the table, built at compile time, for constant-time lookups.
constexpr Lookup BuildLookup() {
  Lookup lookup{};
  for (const OrderTransition& t : kTransitions) {
    lookup[static_cast<std::size_t>(t.from)][static_cast<std::size_t>(t.event)] = t.to;
  }
  return lookup;
}
constexpr Lookup kLookup = BuildLookup();

}  // namespace

std::string_view ToString(OrderState state) {
  switch (state) {
    case S::kOpen: return "OPEN";
    case S::kPlaced: return "PLACED";
    case S::kPartiallyPaid: return "PARTIALLY_PAID";
    case S::kPaid: return "PAID";
    case S::kCanceled: return "CANCELED";
    case S::kRefunded: return "REFUNDED";
  }
  return "UNKNOWN_ORDER_STATE";
}

std::string_view ToString(OrderEvent event) {
  switch (event) {
    case E::kAddLine: return "AddLine";
    case E::kRemoveLine: return "RemoveLine";
    case E::kApplyDiscount: return "ApplyDiscount";
    case E::kPlace: return "Place";
    case E::kPaymentApprovedPartial: return "PaymentApprovedPartial";
    case E::kPaymentApprovedCovering: return "PaymentApprovedCovering";
    case E::kCancel: return "Cancel";
    case E::kRefundCompletedPartial: return "RefundCompletedPartial";
    case E::kRefundCompletedFull: return "RefundCompletedFull";
  }
  return "UnknownOrderEvent";
}

absl::StatusOr<OrderState> ParseOrderState(std::string_view name) {
  for (OrderState state : kAllOrderStates) {
    if (ToString(state) == name) return state;
  }
  return absl::InvalidArgumentError(posd::StrCat("unknown order state '", name, "'"));
}

absl::StatusOr<OrderEvent> ParseOrderEvent(std::string_view name) {
  for (OrderEvent event : kAllOrderEvents) {
    if (ToString(event) == name) return event;
  }
  return absl::InvalidArgumentError(posd::StrCat("unknown order event '", name, "'"));
}

std::ostream& operator<<(std::ostream& os, OrderState state) { return os << ToString(state); }
std::ostream& operator<<(std::ostream& os, OrderEvent event) { return os << ToString(event); }

std::span<const OrderTransition> OrderTransitions() { return kTransitions; }

absl::StatusOr<OrderState> NextOrderState(OrderState state, OrderEvent event) {
  const auto s = static_cast<std::size_t>(state);
  const auto e = static_cast<std::size_t>(event);
  if (s < kStates && e < kEvents && kLookup[s][e].has_value()) return *kLookup[s][e];
  std::string message =
      posd::StrCat("order in state ", ToString(state), " cannot take event ", ToString(event));
  for (const Hint& hint : kHints) {
    if (hint.state == state && hint.event == event) message.append(": ").append(hint.text);
  }
  return absl::FailedPreconditionError(message);
}

bool IsFinal(OrderState state) { return state == S::kCanceled || state == S::kRefunded; }
bool IsEditable(OrderState state) { return state == S::kOpen; }
bool AcceptsPayments(OrderState state) {
  return state == S::kPlaced || state == S::kPartiallyPaid;
}

}  // namespace posd::core
