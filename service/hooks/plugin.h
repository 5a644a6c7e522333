// A plugin: one payment feature (coupons, tip rules, receipts, ...) that takes
// part in some lifecycle hooks (DESIGN.md, "Plugins").
//
// Plugins are created by their factory (plugin_registry.h) from validated
// settings and owned by a PluginSet; the engine and the outbox runner hold
// shared references, so a plugin lives until the last call into it returns.
//
// Before-hooks (BeforeOrder, BeforePayment, BeforeRefund) run on the engine's
// command path, inside the hook chain's time limit (hook_chain.h). They may
// adjust the draft or refuse:
//   OK                   go ahead (with whatever the hook changed)
//   FAILED_PRECONDITION  a veto; the message is the reason shown to the
//                        cashier, e.g. "coupon SUMMER24 has expired"
//   any other code       the plugin could not decide; the transition is
//                        refused with that code (failing closed: a coupon
//                        plugin that cannot check a code must not let it pass)
// A hook that overruns its time limit is treated as a DEADLINE_EXCEEDED veto.
// Its draft is then discarded, so it must not have side effects outside the
// draft: the transition it saw may never commit.
//
// After-hooks (AfterOrder, AfterPayment, OnPaymentFailed, AfterRefund) run
// from the hook_runs outbox on the runner's thread, at least once: after a
// crash or a lost acknowledgement the same run is attempted again with the
// same context.idempotency_key, which a plugin uses to do its work at most
// once (a receipt printed once, a loyalty point credited once). They return:
//   OK                   done; the run SUCCEEDED
//   a permanent error    INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND,
//                        PERMISSION_DENIED, UNIMPLEMENTED or DATA_LOSS:
//                        retrying cannot help; the run is FAILED until an
//                        operator retries it (IsPermanentHookError)
//   any other error      transient (UNAVAILABLE, DEADLINE_EXCEEDED, ...):
//                        retried with backoff until max attempts
// An after-hook can never undo or block the transition it follows.
//
// Thread safety: before-hooks are called from the engine's thread (through
// the chain's worker), after-hooks from the outbox runner's thread, so
// methods of one plugin may run concurrently with each other. Implementations
// must be thread-safe: keep configuration immutable after Create, and guard
// any mutable state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "service/hooks/hook_point.h"
#include "service/hooks/hook_subject.h"
#include "service/hooks/order_draft.h"
#include "service/hooks/payment_draft.h"
#include "service/hooks/refund_draft.h"

namespace posd::hooks {

// What an after-hook attempt knows about its run.
struct AfterHookContext {
  HookPoint hook_point;
  // "<subject id>:<hookPoint>:<plugin>", e.g. "pay_01HF...:afterPayment:receipt".
  // The same on every attempt of the run, including after restarts and
  // manual retries.
  std::string idempotency_key;
  // The id of the hook run (as listed by `posctl hooks list`).
  std::string run_id;
  // 1 on the first attempt.
  int attempt = 1;
};

// True for the codes listed above as permanent.
bool IsPermanentHookError(const absl::Status& status);

class Plugin {
 public:
  virtual ~Plugin() = default;

  // The registered name ("discount", "tip", "receipt").
  virtual std::string_view name() const = 0;
  // The hook points this plugin implements. The chain and the outbox call
  // only these; the defaults below exist so a plugin overrides just its own.
  virtual std::vector<HookPoint> hook_points() const = 0;
  bool Implements(HookPoint point) const;

  // Before-hooks. The defaults go ahead unchanged.
  virtual absl::Status BeforeOrder(OrderDraft& draft);
  virtual absl::Status BeforePayment(PaymentDraft& draft);
  virtual absl::Status BeforeRefund(RefundDraft& draft);

  // After-hooks. `subject` holds the parts hook_subject.h lists for the hook
  // point. The defaults succeed doing nothing.
  virtual absl::Status AfterOrder(const HookSubject& subject, const AfterHookContext& context);
  virtual absl::Status AfterPayment(const HookSubject& subject, const AfterHookContext& context);
  virtual absl::Status OnPaymentFailed(const HookSubject& subject,
                                       const AfterHookContext& context);
  virtual absl::Status AfterRefund(const HookSubject& subject, const AfterHookContext& context);

  // Dispatches to the after-hook of context.hook_point; INVALID_ARGUMENT for
  // a before-hook point.
  absl::Status RunAfterHook(const HookSubject& subject, const AfterHookContext& context);
};

}  // namespace posd::hooks
