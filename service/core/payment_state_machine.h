// The payment state machine: states, events and the transition table.
//
//   CREATED → DISPATCHED (request handed to the link) → AUTHORIZING (terminal
//   acknowledged) → APPROVED | DECLINED | CANCELED | FAILED
//   DISPATCHED, AUTHORIZING --(link lost / timeout / posd crashed)--> IN_DOUBT
//   IN_DOUBT --(the terminal's word: status query, late result)--> APPROVED | DECLINED | ...
//   IN_DOUBT --(operator resolves with evidence, audited)--> APPROVED | DECLINED
//   APPROVED → PARTIALLY_REFUNDED | REFUNDED (each refund its own record)
//
// Rules worth knowing (the full table is in payment_state_machine.cc and
// PaymentTransitions()):
// - Only the terminal's own word or an operator's resolution ends a doubt. A
//   local error (Failed) or a cancel request never moves IN_DOUBT, because
//   the terminal may have charged the card.
// - A result (Approved, Declined, Canceled, Failed) is accepted in DISPATCHED
//   as well as in AUTHORIZING: the result proves the terminal had the request
//   even when its acknowledgement was lost. A late result also ends IN_DOUBT.
// - Link lost / timed out / crashed lead to IN_DOUBT only from DISPATCHED and
//   AUTHORIZING, where the terminal may have charged. From CREATED nothing was
//   sent, so they lead to FAILED: posd does not resend on its own minutes
//   later; the UI starts a new payment if the customer still wants to pay.
//   In IN_DOUBT they keep IN_DOUBT (recovery may report a crash for every
//   unfinished payment, and a status query may itself time out).
// - An approval that does not match the sale (ResultMismatch: other
//   transaction, currency, amount or tip) leads to IN_DOUBT from DISPATCHED,
//   AUTHORIZING and IN_DOUBT: the terminal charged something, but not what
//   was asked, so only an operator with evidence settles it.
// - A status query answered "not found" means the terminal never processed
//   the request: IN_DOUBT → FAILED. It is accepted only in IN_DOUBT; in
//   DISPATCHED the request may still be on its way. The engine must not
//   resend that request afterwards.
// - CancelRequested in CREATED cancels at once (nothing was sent); in
//   DISPATCHED/AUTHORIZING the state stays until the terminal confirms
//   (Canceled) or the customer had already paid (Approved).
// - Outcome states take no further outcome events, not even a duplicate of
//   their own: the engine drops duplicate results by message id before it
//   consults this table. APPROVED and PARTIALLY_REFUNDED take refunds only.
//
// Events whose target depends on a payload (status query answer, operator
// decision, partial or full refund) are separate events, so the whole machine
// stays one table of data.
//
// Thread safety: pure functions over constant data.
#pragma once

#include <array>
#include <iosfwd>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace posd::core {

enum class PaymentState {
  kCreated,
  kDispatched,
  kAuthorizing,
  kApproved,
  kDeclined,
  kCanceled,
  kFailed,
  kInDoubt,
  kPartiallyRefunded,
  kRefunded,
};

inline constexpr std::array kAllPaymentStates = {
    PaymentState::kCreated,  PaymentState::kDispatched, PaymentState::kAuthorizing,
    PaymentState::kApproved, PaymentState::kDeclined,   PaymentState::kCanceled,
    PaymentState::kFailed,   PaymentState::kInDoubt,    PaymentState::kPartiallyRefunded,
    PaymentState::kRefunded,
};

enum class PaymentEvent {
  kDispatch,                  // the request was handed to the terminal link
  kTerminalAcknowledged,      // the terminal confirmed it has the request
  kProgress,                  // the terminal reports progress (waiting for card, ...)
  kApproved,                  // result: approved
  kDeclined,                  // result: declined by card, issuer or terminal rules
  kCanceled,                  // result: the terminal confirms a cancel; nothing charged
  kFailed,                    // error known to precede any charge (terminal refused, no device)
  kLinkLost,                  // the link went down with the request outstanding
  kTimedOut,                  // no result within the engine's deadline
  kCrashed,                   // recovery found the payment unfinished after a restart
  kStatusQueryApproved,       // status query answer: the terminal approved it
  kStatusQueryDeclined,       // status query answer: the terminal declined it
  kStatusQueryNotFound,       // status query answer: the terminal never processed it
  kStatusQueryInProgress,     // status query answer: the terminal is still working on it
  kOperatorResolvedApproved,  // an operator, with evidence, says it was charged (audited)
  kOperatorResolvedDeclined,  // an operator, with evidence, says it was not (audited)
  kRefundCompletedPartial,    // a refund completed; some of the captured amount remains
  kRefundCompletedFull,       // a refund completed; everything captured is refunded
  kCancelRequested,           // a UI or operator asked to cancel
  kResultMismatch,            // an approval that does not match the sale (approval_check.h)
};

inline constexpr std::array kAllPaymentEvents = {
    PaymentEvent::kDispatch,
    PaymentEvent::kTerminalAcknowledged,
    PaymentEvent::kProgress,
    PaymentEvent::kApproved,
    PaymentEvent::kDeclined,
    PaymentEvent::kCanceled,
    PaymentEvent::kFailed,
    PaymentEvent::kLinkLost,
    PaymentEvent::kTimedOut,
    PaymentEvent::kCrashed,
    PaymentEvent::kStatusQueryApproved,
    PaymentEvent::kStatusQueryDeclined,
    PaymentEvent::kStatusQueryNotFound,
    PaymentEvent::kStatusQueryInProgress,
    PaymentEvent::kOperatorResolvedApproved,
    PaymentEvent::kOperatorResolvedDeclined,
    PaymentEvent::kRefundCompletedPartial,
    PaymentEvent::kRefundCompletedFull,
    PaymentEvent::kCancelRequested,
    PaymentEvent::kResultMismatch,
};

// "CREATED", "IN_DOUBT", ... and back; INVALID_ARGUMENT for an unknown name.
std::string_view ToString(PaymentState state);
absl::StatusOr<PaymentState> ParsePaymentState(std::string_view name);
// "Dispatch", "StatusQueryApproved", ... and back; INVALID_ARGUMENT for an unknown name.
std::string_view ToString(PaymentEvent event);
absl::StatusOr<PaymentEvent> ParsePaymentEvent(std::string_view name);
std::ostream& operator<<(std::ostream& os, PaymentState state);
std::ostream& operator<<(std::ostream& os, PaymentEvent event);

struct PaymentTransition {
  PaymentState from;
  PaymentEvent event;
  PaymentState to;
};

// Every allowed transition; any (state, event) pair not listed is refused.
std::span<const PaymentTransition> PaymentTransitions();

// The state after `event`, or FAILED_PRECONDITION naming both, e.g. "payment
// in state APPROVED cannot take event Dispatch", sometimes with a hint.
absl::StatusOr<PaymentState> NextPaymentState(PaymentState state, PaymentEvent event);

// The authorization has an outcome: APPROVED, DECLINED, CANCELED, FAILED,
// PARTIALLY_REFUNDED, REFUNDED. Only refund events may still follow.
bool IsTerminal(PaymentState state);
// No event at all is accepted any more: DECLINED, CANCELED, FAILED, REFUNDED.
bool IsFinal(PaymentState state);
// The request was handed over and no result is known yet: DISPATCHED,
// AUTHORIZING, IN_DOUBT. The card may have been charged.
bool IsOutcomeUnknown(PaymentState state);
// The card was charged (possibly refunded since): APPROVED,
// PARTIALLY_REFUNDED, REFUNDED.
bool WasApproved(PaymentState state);
// Whether a payment in `state` lets another payment start for the same
// order: only when it is terminal. A CREATED payment is about to be sent and
// an in-flight or in-doubt one may still charge, so either blocks; that is
// how the same bill is never charged twice.
bool MayStartNewPaymentForOrder(PaymentState state);

}  // namespace posd::core
