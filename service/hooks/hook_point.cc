#include "service/hooks/hook_point.h"

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "service/common/strings.h"

namespace posd::hooks {

std::string_view ToString(HookPoint point) {
  switch (point) {
    case HookPoint::kBeforeOrder:
      return "beforeOrder";
    case HookPoint::kAfterOrder:
      return "afterOrder";
    case HookPoint::kBeforePayment:
      return "beforePayment";
    case HookPoint::kAfterPayment:
      return "afterPayment";
    case HookPoint::kOnPaymentFailed:
      return "onPaymentFailed";
    case HookPoint::kBeforeRefund:
      return "beforeRefund";
    case HookPoint::kAfterRefund:
      return "afterRefund";
  }
  return "unknown";
}

absl::StatusOr<HookPoint> ParseHookPoint(std::string_view name) {
  for (HookPoint point : kAllHookPoints) {
    if (ToString(point) == name) return point;
  }
  return absl::InvalidArgumentError(StrCat("unknown hook point \"", name, "\""));
}

std::ostream& operator<<(std::ostream& os, HookPoint point) { return os << ToString(point); }

bool IsBeforeHook(HookPoint point) {
  return point == HookPoint::kBeforeOrder || point == HookPoint::kBeforePayment ||
         point == HookPoint::kBeforeRefund;
}

}  // namespace posd::hooks
