// A refund: money given back on one approved payment. Each refund is its own
// record; a payment may have several partial refunds.
//
// A refund goes through the terminal like a payment, so its outcome can be
// unknown too (IN_DOUBT). Pending and in-doubt refunds reserve their amount:
// refund_rules.h refuses a new refund that, together with them, could give
// back more than was captured.
//
// Fields with a default ("= {}") may be left out of a designated
// initializer; the others (ids, money, quantities) must be given.
//
// Thread safety: a plain value; copy freely, synchronise shared mutation.
#pragma once

#include <array>
#include <chrono>
#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/core/ids.h"
#include "service/core/money.h"

namespace posd::core {

enum class RefundState {
  kPending,    // recorded, sent or about to be sent to the terminal
  kInDoubt,    // the terminal may have paid it out; the outcome is unknown
  kCompleted,  // the money went back; counted in Payment::refunded_amount
  kFailed,     // nothing went back
};

inline constexpr std::array kAllRefundStates = {RefundState::kPending, RefundState::kInDoubt,
                                                RefundState::kCompleted, RefundState::kFailed};

// "PENDING", "IN_DOUBT", "COMPLETED", "FAILED" and back; INVALID_ARGUMENT for
// an unknown name.
std::string_view ToString(RefundState state);
absl::StatusOr<RefundState> ParseRefundState(std::string_view name);
std::ostream& operator<<(std::ostream& os, RefundState state);

// Pending and in-doubt refunds may still pay out, so their amount is held
// back from what can be refunded.
bool ReservesAmount(RefundState state);

struct Refund {
  RefundId id;
  PaymentId payment_id;
  Money amount;  // > 0, in the payment's currency
  RefundState state = RefundState::kPending;
  std::string reason = {};          // the operator's reason, for the audit log; required
  std::string failure_reason = {};  // why it failed, when it did
  std::string terminal_reference = {};
  std::chrono::system_clock::time_point created_at = {};
  std::chrono::system_clock::time_point updated_at = {};

  // INVALID_ARGUMENT unless amount > 0 and a reason is given.
  absl::Status Validate() const;

  friend bool operator==(const Refund&, const Refund&) = default;
};

}  // namespace posd::core
