#include "service/core/payment_state_machine.h"

#include <optional>
#include <ostream>

#include "service/common/strings.h"

namespace posd::core {
namespace {

using S = PaymentState;
using E = PaymentEvent;

// The rules. Any pair not listed here is refused. Keep rows grouped by state.
constexpr PaymentTransition kTransitions[] = {
    // Nothing has left posd yet.
    {S::kCreated, E::kDispatch, S::kDispatched},
    {S::kCreated, E::kFailed, S::kFailed},
    {S::kCreated, E::kLinkLost, S::kFailed},
    {S::kCreated, E::kTimedOut, S::kFailed},
    {S::kCreated, E::kCrashed, S::kFailed},
    {S::kCreated, E::kCancelRequested, S::kCanceled},

    // Handed to the link; the terminal may or may not have it.
    {S::kDispatched, E::kTerminalAcknowledged, S::kAuthorizing},
    {S::kDispatched, E::kProgress, S::kAuthorizing},
    {S::kDispatched, E::kApproved, S::kApproved},
    {S::kDispatched, E::kDeclined, S::kDeclined},
    {S::kDispatched, E::kCanceled, S::kCanceled},
    {S::kDispatched, E::kFailed, S::kFailed},
    {S::kDispatched, E::kLinkLost, S::kInDoubt},
    {S::kDispatched, E::kTimedOut, S::kInDoubt},
    {S::kDispatched, E::kCrashed, S::kInDoubt},
    {S::kDispatched, E::kStatusQueryApproved, S::kApproved},
    {S::kDispatched, E::kStatusQueryDeclined, S::kDeclined},
    {S::kDispatched, E::kStatusQueryInProgress, S::kAuthorizing},
    {S::kDispatched, E::kCancelRequested, S::kDispatched},
    {S::kDispatched, E::kResultMismatch, S::kInDoubt},

    // The terminal is working on it.
    {S::kAuthorizing, E::kTerminalAcknowledged, S::kAuthorizing},
    {S::kAuthorizing, E::kProgress, S::kAuthorizing},
    {S::kAuthorizing, E::kApproved, S::kApproved},
    {S::kAuthorizing, E::kDeclined, S::kDeclined},
    {S::kAuthorizing, E::kCanceled, S::kCanceled},
    {S::kAuthorizing, E::kFailed, S::kFailed},
    {S::kAuthorizing, E::kLinkLost, S::kInDoubt},
    {S::kAuthorizing, E::kTimedOut, S::kInDoubt},
    {S::kAuthorizing, E::kCrashed, S::kInDoubt},
    {S::kAuthorizing, E::kStatusQueryApproved, S::kApproved},
    {S::kAuthorizing, E::kStatusQueryDeclined, S::kDeclined},
    {S::kAuthorizing, E::kStatusQueryInProgress, S::kAuthorizing},
    {S::kAuthorizing, E::kCancelRequested, S::kAuthorizing},
    {S::kAuthorizing, E::kResultMismatch, S::kInDoubt},

    // Outcome unknown: only the terminal's word or an operator ends it.
    {S::kInDoubt, E::kTerminalAcknowledged, S::kAuthorizing},
    {S::kInDoubt, E::kProgress, S::kAuthorizing},
    {S::kInDoubt, E::kApproved, S::kApproved},
    {S::kInDoubt, E::kDeclined, S::kDeclined},
    {S::kInDoubt, E::kCanceled, S::kCanceled},
    {S::kInDoubt, E::kLinkLost, S::kInDoubt},
    {S::kInDoubt, E::kTimedOut, S::kInDoubt},
    {S::kInDoubt, E::kCrashed, S::kInDoubt},
    {S::kInDoubt, E::kStatusQueryApproved, S::kApproved},
    {S::kInDoubt, E::kStatusQueryDeclined, S::kDeclined},
    {S::kInDoubt, E::kStatusQueryNotFound, S::kFailed},
    {S::kInDoubt, E::kStatusQueryInProgress, S::kAuthorizing},
    {S::kInDoubt, E::kOperatorResolvedApproved, S::kApproved},
    {S::kInDoubt, E::kOperatorResolvedDeclined, S::kDeclined},
    {S::kInDoubt, E::kResultMismatch, S::kInDoubt},

    // Charged: only refunds follow.
    {S::kApproved, E::kRefundCompletedPartial, S::kPartiallyRefunded},
    {S::kApproved, E::kRefundCompletedFull, S::kRefunded},
    {S::kPartiallyRefunded, E::kRefundCompletedPartial, S::kPartiallyRefunded},
    {S::kPartiallyRefunded, E::kRefundCompletedFull, S::kRefunded},
};

// Why some refusals happen, for the people who will read the error.
struct Hint {
  PaymentState state;
  PaymentEvent event;
  std::string_view text;
};
constexpr Hint kHints[] = {
    {S::kApproved, E::kCancelRequested, "an approved payment must be refunded instead"},
    {S::kPartiallyRefunded, E::kCancelRequested, "refund the rest instead"},
    {S::kInDoubt, E::kCancelRequested,
     "the terminal may have charged; resolve the outcome first (status query or operator)"},
    {S::kInDoubt, E::kFailed,
     "the terminal may have charged; only its answer or an operator can end the doubt"},
    {S::kDispatched, E::kStatusQueryNotFound,
     "the request may still be on its way; query only payments in doubt"},
    {S::kAuthorizing, E::kStatusQueryNotFound,
     "the terminal acknowledged this request; query only payments in doubt"},
};

constexpr std::size_t kStates = std::size(kAllPaymentStates);
constexpr std::size_t kEvents = std::size(kAllPaymentEvents);

using Lookup = std::array<std::array<std::optional<PaymentState>, kEvents>, kStates>;

// The kAll arrays list every enum value in order (so an enum value indexes
// the lookup) and no (state, event) pair has two rows.
constexpr bool TableIsConsistent() {
  for (std::size_t i = 0; i < kStates; ++i) {
    if (static_cast<std::size_t>(kAllPaymentStates[i]) != i) return false;
  }
  for (std::size_t i = 0; i < kEvents; ++i) {
    if (static_cast<std::size_t>(kAllPaymentEvents[i]) != i) return false;
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
static_assert(TableIsConsistent(), "payment transition table: order or duplicate rows");

// A dense copy of the table, built at compile time, for constant-time lookups.
constexpr Lookup BuildLookup() {
  Lookup lookup{};
  for (const PaymentTransition& t : kTransitions) {
    lookup[static_cast<std::size_t>(t.from)][static_cast<std::size_t>(t.event)] = t.to;
  }
  return lookup;
}
constexpr Lookup kLookup = BuildLookup();

}  // namespace

std::string_view ToString(PaymentState state) {
  switch (state) {
    case S::kCreated: return "CREATED";
    case S::kDispatched: return "DISPATCHED";
    case S::kAuthorizing: return "AUTHORIZING";
    case S::kApproved: return "APPROVED";
    case S::kDeclined: return "DECLINED";
    case S::kCanceled: return "CANCELED";
    case S::kFailed: return "FAILED";
    case S::kInDoubt: return "IN_DOUBT";
    case S::kPartiallyRefunded: return "PARTIALLY_REFUNDED";
    case S::kRefunded: return "REFUNDED";
  }
  return "UNKNOWN_PAYMENT_STATE";
}

std::string_view ToString(PaymentEvent event) {
  switch (event) {
    case E::kDispatch: return "Dispatch";
    case E::kTerminalAcknowledged: return "TerminalAcknowledged";
    case E::kProgress: return "Progress";
    case E::kApproved: return "Approved";
    case E::kDeclined: return "Declined";
    case E::kCanceled: return "Canceled";
    case E::kFailed: return "Failed";
    case E::kLinkLost: return "LinkLost";
    case E::kTimedOut: return "TimedOut";
    case E::kCrashed: return "Crashed";
    case E::kStatusQueryApproved: return "StatusQueryApproved";
    case E::kStatusQueryDeclined: return "StatusQueryDeclined";
    case E::kStatusQueryNotFound: return "StatusQueryNotFound";
    case E::kStatusQueryInProgress: return "StatusQueryInProgress";
    case E::kOperatorResolvedApproved: return "OperatorResolvedApproved";
    case E::kOperatorResolvedDeclined: return "OperatorResolvedDeclined";
    case E::kRefundCompletedPartial: return "RefundCompletedPartial";
    case E::kRefundCompletedFull: return "RefundCompletedFull";
    case E::kCancelRequested: return "CancelRequested";
    case E::kResultMismatch: return "ResultMismatch";
  }
  return "UnknownPaymentEvent";
}

absl::StatusOr<PaymentState> ParsePaymentState(std::string_view name) {
  for (PaymentState state : kAllPaymentStates) {
    if (ToString(state) == name) return state;
  }
  return absl::InvalidArgumentError(posd::StrCat("unknown payment state '", name, "'"));
}

absl::StatusOr<PaymentEvent> ParsePaymentEvent(std::string_view name) {
  for (PaymentEvent event : kAllPaymentEvents) {
    if (ToString(event) == name) return event;
  }
  return absl::InvalidArgumentError(posd::StrCat("unknown payment event '", name, "'"));
}

std::ostream& operator<<(std::ostream& os, PaymentState state) { return os << ToString(state); }
std::ostream& operator<<(std::ostream& os, PaymentEvent event) { return os << ToString(event); }

std::span<const PaymentTransition> PaymentTransitions() { return kTransitions; }

absl::StatusOr<PaymentState> NextPaymentState(PaymentState state, PaymentEvent event) {
  const auto s = static_cast<std::size_t>(state);
  const auto e = static_cast<std::size_t>(event);
  if (s < kStates && e < kEvents && kLookup[s][e].has_value()) return *kLookup[s][e];
  std::string message =
      posd::StrCat("payment in state ", ToString(state), " cannot take event ", ToString(event));
  for (const Hint& hint : kHints) {
    if (hint.state == state && hint.event == event) message.append(": ").append(hint.text);
  }
  return absl::FailedPreconditionError(message);
}

bool IsTerminal(PaymentState state) {
  switch (state) {
    case S::kApproved:
    case S::kDeclined:
    case S::kCanceled:
    case S::kFailed:
    case S::kPartiallyRefunded:
    case S::kRefunded:
      return true;
    case S::kCreated:
    case S::kDispatched:
    case S::kAuthorizing:
    case S::kInDoubt:
      return false;
  }
  return false;
}

bool IsFinal(PaymentState state) {
  return state == S::kDeclined || state == S::kCanceled || state == S::kFailed ||
         state == S::kRefunded;
}

bool IsOutcomeUnknown(PaymentState state) {
  return state == S::kDispatched || state == S::kAuthorizing || state == S::kInDoubt;
}

bool WasApproved(PaymentState state) {
  return state == S::kApproved || state == S::kPartiallyRefunded || state == S::kRefunded;
}

bool MayStartNewPaymentForOrder(PaymentState state) { return IsTerminal(state); }

}  // namespace posd::core
