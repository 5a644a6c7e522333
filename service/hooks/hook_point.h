// The lifecycle points where plugins take part (DESIGN.md, "Lifecycle hooks").
//
// Before-hooks run inside the transition they guard and may adjust it or veto
// it; after-hooks run later, at least once, from the hook_runs outbox.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <array>
#include <iosfwd>
#include <string_view>

#include "absl/status/statusor.h"

namespace posd::hooks {

enum class HookPoint {
  kBeforeOrder,      // an OPEN order is created or changed, or is being placed
  kAfterOrder,       // an order was PLACED
  kBeforePayment,    // a payment is about to be created
  kAfterPayment,     // a payment was APPROVED
  kOnPaymentFailed,  // a payment ended DECLINED, CANCELED or FAILED
  kBeforeRefund,     // a refund is about to be created
  kAfterRefund,      // a refund COMPLETED
};

inline constexpr std::array kAllHookPoints = {
    HookPoint::kBeforeOrder,   HookPoint::kAfterOrder,      HookPoint::kBeforePayment,
    HookPoint::kAfterPayment,  HookPoint::kOnPaymentFailed, HookPoint::kBeforeRefund,
    HookPoint::kAfterRefund};

// The names DESIGN.md and the configuration use: "beforeOrder", "afterOrder",
// "beforePayment", "afterPayment", "onPaymentFailed", "beforeRefund",
// "afterRefund". They are also part of idempotency keys and stored in the
// hook_runs table, so they never change.
std::string_view ToString(HookPoint point);
// The inverse of ToString; INVALID_ARGUMENT for any other text.
absl::StatusOr<HookPoint> ParseHookPoint(std::string_view name);
std::ostream& operator<<(std::ostream& os, HookPoint point);

// True for beforeOrder, beforePayment and beforeRefund.
bool IsBeforeHook(HookPoint point);

}  // namespace posd::hooks
