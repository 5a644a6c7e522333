#include "service/core/payment.h"

#include "service/common/strings.h"
#include "service/common/status_macros.h"

namespace posd::core {

absl::StatusOr<Money> Payment::Captured() const {
  if (!WasApproved(state)) return Money::Zero(currency());
  if (charged.has_value()) return *charged;
  return ChargeTotal();
}

absl::StatusOr<Money> Payment::ApprovedAmount() const {
  if (!WasApproved(state)) return Money::Zero(currency());
  POSD_ASSIGN_OR_RETURN(Money captured, Captured());
  return captured.Subtract(tip);
}

absl::Status Payment::Validate() const {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(posd::StrCat("payment ", id.str(), ": ", why));
  };
  if (!amount.is_positive()) {
    return invalid(posd::StrCat("amount must be > 0, got ", amount.ToString()));
  }
  if (tip.currency() != currency() || refunded_amount.currency() != currency()) {
    return invalid(posd::StrCat("amount ", amount.ToString(), ", tip ", tip.ToString(),
                                " and refunded amount ", refunded_amount.ToString(),
                                " must share one currency"));
  }
  if (tip.is_negative()) return invalid(posd::StrCat("tip must be >= 0, got ", tip.ToString()));
  POSD_RETURN_IF_ERROR(CheckAmountLimit(amount, "amount"));
  POSD_RETURN_IF_ERROR(CheckAmountLimit(tip, "tip"));
  if (charged.has_value()) {
    POSD_ASSIGN_OR_RETURN(Money total, ChargeTotal());
    if (charged->currency() != currency() || *charged < tip || *charged > total ||
        !charged->is_positive()) {
      return invalid(posd::StrCat("charged amount ", charged->ToString(),
                                  " must be positive, at least the tip ", tip.ToString(),
                                  " and at most amount + tip ", total.ToString()));
    }
  }
  POSD_ASSIGN_OR_RETURN(Money captured, Captured());
  const bool consistent = [&] {
    switch (state) {
      case PaymentState::kPartiallyRefunded:
        return refunded_amount.is_positive() && refunded_amount < captured;
      case PaymentState::kRefunded:
        return refunded_amount == captured;
      default:
        return refunded_amount.is_zero();
    }
  }();
  if (!consistent) {
    return invalid(posd::StrCat("refunded amount ", refunded_amount.ToString(),
                                " does not fit state ", ToString(state), " with captured ",
                                captured.ToString()));
  }
  return absl::OkStatus();
}

}  // namespace posd::core
