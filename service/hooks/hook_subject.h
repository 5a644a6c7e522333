// What an after-hook is about: an immutable snapshot of the order, payment
// and refund as the transition that created the run left them.
//
// A snapshot, not a fresh read: an afterPayment hook that runs an hour late
// (after retries, or after a restart) must still see the payment as it was
// approved, not as it is now (perhaps refunded since). The engine stores the
// snapshot with the hook run (EncodeHookSubject, hook_subject_codec.h), in the
// same transaction as the transition.
//
// What is present, per hook point:
//   afterOrder                     order
//   afterPayment, onPaymentFailed  payment, and its order unless a quick sale
//   afterRefund                    refund, its payment, and the order if any
//
// Thread safety: a plain value; copy freely.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "service/core/order.h"
#include "service/core/payment.h"
#include "service/core/refund.h"
#include "service/hooks/hook_point.h"

namespace posd::hooks {

struct HookSubject {
  std::optional<core::Order> order = {};
  std::optional<core::Payment> payment = {};
  std::optional<core::Refund> refund = {};

  // OK when the parts listed above for `point` are present; INVALID_ARGUMENT
  // otherwise, and for a before-hook point (those have drafts, not subjects).
  absl::Status ValidateFor(HookPoint point) const;
  // The id of what the run is about at `point`: the order id (afterOrder),
  // payment id (afterPayment, onPaymentFailed) or refund id (afterRefund).
  // Empty when that part is missing.
  std::string SubjectIdFor(HookPoint point) const;

  friend bool operator==(const HookSubject&, const HookSubject&) = default;
};

}  // namespace posd::hooks
