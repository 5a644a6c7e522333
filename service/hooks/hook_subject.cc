#include "service/hooks/hook_subject.h"

#include "service/common/strings.h"

namespace posd::hooks {

absl::Status HookSubject::ValidateFor(HookPoint point) const {
  auto missing = [point](std::string_view part) {
    return absl::InvalidArgumentError(StrCat(ToString(point), " needs the ", part));
  };
  switch (point) {
    case HookPoint::kAfterOrder:
      if (!order) return missing("order");
      return absl::OkStatus();
    case HookPoint::kAfterPayment:
    case HookPoint::kOnPaymentFailed:
      if (!payment) return missing("payment");
      return absl::OkStatus();
    case HookPoint::kAfterRefund:
      if (!refund) return missing("refund");
      if (!payment) return missing("payment");
      return absl::OkStatus();
    case HookPoint::kBeforeOrder:
    case HookPoint::kBeforePayment:
    case HookPoint::kBeforeRefund:
      break;
  }
  return absl::InvalidArgumentError(StrCat(ToString(point), " is a before-hook: it has no subject"));
}

std::string HookSubject::SubjectIdFor(HookPoint point) const {
  switch (point) {
    case HookPoint::kAfterOrder:
    case HookPoint::kBeforeOrder:
      return order ? order->id.str() : std::string();
    case HookPoint::kAfterPayment:
    case HookPoint::kOnPaymentFailed:
    case HookPoint::kBeforePayment:
      return payment ? payment->id.str() : std::string();
    case HookPoint::kAfterRefund:
    case HookPoint::kBeforeRefund:
      return refund ? refund->id.str() : std::string();
  }
  return std::string();
}

}  // namespace posd::hooks
