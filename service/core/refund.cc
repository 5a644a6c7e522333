#include "service/core/refund.h"

#include <ostream>

#include "service/common/strings.h"

namespace posd::core {

std::string_view ToString(RefundState state) {
  switch (state) {
    case RefundState::kPending: return "PENDING";
    case RefundState::kInDoubt: return "IN_DOUBT";
    case RefundState::kCompleted: return "COMPLETED";
    case RefundState::kFailed: return "FAILED";
  }
  return "UNKNOWN_REFUND_STATE";
}

absl::StatusOr<RefundState> ParseRefundState(std::string_view name) {
  for (RefundState state : kAllRefundStates) {
    if (ToString(state) == name) return state;
  }
  return absl::InvalidArgumentError(posd::StrCat("unknown refund state '", name, "'"));
}

std::ostream& operator<<(std::ostream& os, RefundState state) { return os << ToString(state); }

bool ReservesAmount(RefundState state) {
  return state == RefundState::kPending || state == RefundState::kInDoubt;
}

absl::Status Refund::Validate() const {
  if (!amount.is_positive()) {
    return absl::InvalidArgumentError(
        posd::StrCat("refund ", id.str(), ": amount must be > 0, got ", amount.ToString()));
  }
  if (reason.empty()) {
    return absl::InvalidArgumentError(posd::StrCat("refund ", id.str(), ": a reason is required"));
  }
  return absl::OkStatus();
}

}  // namespace posd::core
