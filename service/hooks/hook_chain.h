// Runs the before-hooks of the enabled plugins, in configured order, each
// within a time limit; and says which after-hook runs a transition creates.
//
// How the engine uses it, for a command that makes a transition:
//   1. build the draft (order_draft.h, payment_draft.h, refund_draft.h) and
//      call RunBeforeOrder / RunBeforePayment / RunBeforeRefund. A non-OK
//      status refuses the command with that status (FAILED_PRECONDITION for
//      a veto, DEADLINE_EXCEEDED for a hook over its limit; the message names
//      the plugin, VetoingPlugin() tells which one);
//   2. commit the draft's order / payment together with the transition;
//   3. in the same transaction, insert one hook_runs row per entry of
//      PlanAfterRuns(point, subject id) for each after-hook point the
//      transition reaches (afterOrder on PLACED, afterPayment on APPROVED,
//      onPaymentFailed on DECLINED/CANCELED/FAILED, afterRefund on COMPLETED),
//      with the EncodeHookSubject() bytes of the subject (hook_subject_codec.h),
//      then OutboxRunner::Wake() after the commit.
//
// Time limit, and why on a worker: a plugin cannot be trusted to return (a
// bug, a blocking call), and the engine thread commits every payment, so it
// must never wait on a plugin without bound. Each hook therefore runs on the
// chain's worker thread against a copy of the draft, while the caller waits
// at most `time_limit`. If the hook returns in time its copy replaces the
// draft; if not, the caller gets DEADLINE_EXCEEDED at once, the copy is
// discarded, and the stuck worker is abandoned (detached: C++ cannot stop a
// thread) and replaced, so the next command does not queue behind it. The
// abandoned thread keeps the plugin and the copy alive through shared
// ownership until it returns. Measuring a hook's time after it returned would
// not do: it cannot unblock an engine stuck in a hook that never returns.
// With time_limit == 0 hooks run inline on the caller's thread, unbounded
// (for tools and tests that need no limit).
//
// Thread safety: the Run* methods are called from one thread at a time (the
// engine's); PlanAfterRuns is const and safe from any thread. `plugins`
// must outlive the chain.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/hooks/hook_point.h"
#include "service/hooks/order_draft.h"
#include "service/hooks/payment_draft.h"
#include "service/hooks/plugin_set.h"
#include "service/hooks/refund_draft.h"

namespace posd::hooks {

struct HookChainOptions {
  // Per hook, not per chain. 0: inline, no limit.
  std::chrono::milliseconds time_limit{2000};
};

// One after-hook run a transition creates: one outbox row.
struct PlannedHookRun {
  HookPoint hook_point;
  std::string plugin;
  std::string subject_id;
  std::string idempotency_key;

  friend bool operator==(const PlannedHookRun&, const PlannedHookRun&) = default;
};

// "<subject id>:<hookPoint>:<plugin>", e.g.
// "pay_01HF7YAT00V3DQ4XK2M8E9R6ZB:afterPayment:receipt". Stable: the hook
// runs table holds it UNIQUE, and plugins use it to act at most once.
std::string HookIdempotencyKey(std::string_view subject_id, HookPoint point,
                               std::string_view plugin);

// The plugin named in a status returned by a Run* method, if a plugin's
// hook caused it.
std::optional<std::string> VetoingPlugin(const absl::Status& status);

class HookChain {
 public:
  HookChain(const PluginSet& plugins, HookChainOptions options);
  // Joins the worker if idle; a worker stuck in a hook stays detached.
  ~HookChain();
  HookChain(const HookChain&) = delete;
  HookChain& operator=(const HookChain&) = delete;

  // Run the hook of every enabled plugin implementing the point, in order;
  // each sees the draft as the previous one left it. On the first non-OK
  // result the draft is left as it was before that hook, and the status
  // (message prefixed with the plugin's name) is returned.
  absl::Status RunBeforeOrder(OrderDraft& draft);
  absl::Status RunBeforePayment(PaymentDraft& draft);
  absl::Status RunBeforeRefund(RefundDraft& draft);

  // The after-hook runs a transition reaching `point` for `subject_id`
  // creates: one per enabled plugin implementing `point`, in run order.
  // Empty for a before-hook point.
  std::vector<PlannedHookRun> PlanAfterRuns(HookPoint point, std::string_view subject_id) const;

  // Workers abandoned because a hook overran (for tests and metrics).
  int abandoned_workers() const { return abandoned_workers_; }

 private:
  class Worker;

  template <typename Draft, typename Call>
  absl::Status RunChain(HookPoint point, Draft& draft, Call call);
  template <typename Draft, typename Call>
  absl::Status RunOne(const std::shared_ptr<Plugin>& plugin, Draft& draft, Call call);

  const PluginSet& plugins_;
  const HookChainOptions options_;
  std::shared_ptr<Worker> worker_;
  int abandoned_workers_ = 0;
};

}  // namespace posd::hooks
