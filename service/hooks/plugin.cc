#include "service/hooks/plugin.h"

#include <algorithm>

#include "service/common/strings.h"

namespace posd::hooks {

bool IsPermanentHookError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

bool Plugin::Implements(HookPoint point) const {
  const std::vector<HookPoint> points = hook_points();
  return std::find(points.begin(), points.end(), point) != points.end();
}

absl::Status Plugin::BeforeOrder(OrderDraft&) { return absl::OkStatus(); }
absl::Status Plugin::BeforePayment(PaymentDraft&) { return absl::OkStatus(); }
absl::Status Plugin::BeforeRefund(RefundDraft&) { return absl::OkStatus(); }
absl::Status Plugin::AfterOrder(const HookSubject&, const AfterHookContext&) {
  return absl::OkStatus();
}
absl::Status Plugin::AfterPayment(const HookSubject&, const AfterHookContext&) {
  return absl::OkStatus();
}
absl::Status Plugin::OnPaymentFailed(const HookSubject&, const AfterHookContext&) {
  return absl::OkStatus();
}
absl::Status Plugin::AfterRefund(const HookSubject&, const AfterHookContext&) {
  return absl::OkStatus();
}

absl::Status Plugin::RunAfterHook(const HookSubject& subject, const AfterHookContext& context) {
  switch (context.hook_point) {
    case HookPoint::kAfterOrder:
      return AfterOrder(subject, context);
    case HookPoint::kAfterPayment:
      return AfterPayment(subject, context);
    case HookPoint::kOnPaymentFailed:
      return OnPaymentFailed(subject, context);
    case HookPoint::kAfterRefund:
      return AfterRefund(subject, context);
    case HookPoint::kBeforeOrder:
    case HookPoint::kBeforePayment:
    case HookPoint::kBeforeRefund:
      break;
  }
  return absl::InvalidArgumentError(
      StrCat(ToString(context.hook_point), " is not an after-hook"));
}

}  // namespace posd::hooks
