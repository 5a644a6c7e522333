// Works off the hook_runs outbox: claims due runs, calls the plugin's
// after-hook, records the outcome, and schedules retries with exponential
// backoff.
//
// At least once: a run is claimed (RUNNING) before its attempt and recorded
// after it, so a crash in between leaves it RUNNING, and the next start
// (RecoverInterrupted) makes it due again. Plugins deduplicate with the run's
// idempotency key. Nothing here can block or undo a payment: the runner only
// reads snapshots and writes hook_runs rows, on its own thread.
//
// Backoff: after failed attempt n (1-based) the next is due
// initial_backoff * 2^(n-1), capped at max_backoff. No jitter: one posd box
// retries a handful of runs, not a fleet thundering at one server, and
// deterministic times keep the schedule testable. After max_attempts failed
// attempts a run is ABANDONED; a permanent error (IsPermanentHookError) makes
// it FAILED at once; a run whose plugin is no longer enabled is ABANDONED. All
// stay listed and can be retried by an operator (HookRunStore::RetryRun).
//
// Time: schedules use clock.WallNow() (they are stored and survive restarts);
// tests drive RunDue() directly with a FakeClock. The thread waits on real
// time between passes (until the next due run, at most poll_interval), or
// until Wake().
//
// Lifetime and thread safety: `store`, `plugins` and `clock` must outlive the
// runner. Start/Stop from one owner thread; Wake and RunDue from any thread
// (RunDue passes are serialised). The destructor stops the thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/common/clock.h"
#include "service/hooks/hook_run.h"
#include "service/hooks/hook_run_store.h"
#include "service/hooks/plugin_set.h"

namespace posd::hooks {

struct OutboxRunnerOptions {
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(10)};
  // Attempts (including the first) before a run is ABANDONED.
  int max_attempts = 10;
  // Runs claimed per pass.
  int batch_size = 16;
  // Longest wait between passes even when nothing seems due (a safety net for
  // a missed Wake or a wall clock step).
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
};

// What one pass did.
struct OutboxPassResult {
  int succeeded = 0;
  int retry_scheduled = 0;
  int failed = 0;     // permanent errors
  int abandoned = 0;  // attempts exhausted, or plugin not enabled
  int total() const { return succeeded + retry_scheduled + failed + abandoned; }
};

// When attempt `attempt` (1-based) failed transiently, how long until the
// next one.
std::chrono::milliseconds BackoffAfter(int attempt, const OutboxRunnerOptions& options);

class OutboxRunner {
 public:
  OutboxRunner(HookRunStore& store, const PluginSet& plugins, const Clock& clock,
               OutboxRunnerOptions options = {});
  ~OutboxRunner();
  OutboxRunner(const OutboxRunner&) = delete;
  OutboxRunner& operator=(const OutboxRunner&) = delete;

  const OutboxRunnerOptions& options() const { return options_; }

  // Recovers runs interrupted by a previous process, then starts the thread.
  // Errors from the store are returned and nothing is started.
  absl::Status Start();
  // Stops the thread after the attempt in progress, if any. Idempotent.
  void Stop();
  // New runs were committed (or a run was retried): pass now.
  void Wake();

  // One pass: claims due runs (repeatedly, until none is due) and attempts
  // each. Store errors end the pass and are returned; plugin errors are
  // recorded, not returned.
  absl::StatusOr<OutboxPassResult> RunDue();

 private:
  void Loop();
  // Attempts one claimed run and records the outcome.
  absl::Status Attempt(const HookRun& run, OutboxPassResult& result);

  HookRunStore& store_;
  const PluginSet& plugins_;
  const Clock& clock_;
  const OutboxRunnerOptions options_;

  absl::Mutex pass_mu_;  // serialises RunDue
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace posd::hooks
