#include "service/hooks/outbox_runner.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/hooks/hook_subject_codec.h"

namespace posd::hooks {

std::chrono::milliseconds BackoffAfter(int attempt, const OutboxRunnerOptions& options) {
  std::chrono::milliseconds delay = options.initial_backoff;
  for (int i = 1; i < attempt && delay < options.max_backoff; ++i) delay *= 2;
  return std::min(delay, options.max_backoff);
}

OutboxRunner::OutboxRunner(HookRunStore& store, const PluginSet& plugins, const Clock& clock,
                           OutboxRunnerOptions options)
    : store_(store), plugins_(plugins), clock_(clock), options_(options) {}

OutboxRunner::~OutboxRunner() { Stop(); }

absl::Status OutboxRunner::Start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("outbox runner already started");
  POSD_RETURN_IF_ERROR(store_.RecoverInterrupted(clock_.WallNow()).status());
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
    woken_ = true;  // pass at once: runs may have become due while posd was down
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void OutboxRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboxRunner::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void OutboxRunner::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      woken_ = false;
    }
    // A store error (e.g. the disk is full) is not ours to handle: it shows
    // in the engine's health; the runner keeps trying at the poll interval.
    (void)RunDue();

    std::chrono::milliseconds wait = options_.poll_interval;
    absl::StatusOr<std::optional<std::chrono::system_clock::time_point>> next = store_.NextDueAt();
    if (next.ok() && next->has_value()) {
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(**next -
                                                                         clock_.WallNow());
      wait = std::clamp(until, std::chrono::milliseconds(0), options_.poll_interval);
    }
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || woken_; };
    mu_.AwaitWithTimeout(absl::Condition(&ready), absl::FromChrono(wait));
  }
}

absl::StatusOr<OutboxPassResult> OutboxRunner::RunDue() {
  absl::MutexLock pass_lock(&pass_mu_);
  OutboxPassResult result;
  for (;;) {
    POSD_ASSIGN_OR_RETURN(std::vector<HookRun> runs,
                          store_.ClaimDueRuns(clock_.WallNow(), options_.batch_size));
    if (runs.empty()) return result;
    for (const HookRun& run : runs) POSD_RETURN_IF_ERROR(Attempt(run, result));
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return result;
    }
  }
}

absl::Status OutboxRunner::Attempt(const HookRun& run, OutboxPassResult& result) {
  auto record_final = [&](HookRunState state, std::string error) {
    if (state == HookRunState::kFailed) ++result.failed;
    if (state == HookRunState::kAbandoned) ++result.abandoned;
    return store_.RecordFailure(
        run.id, HookRunFailure{.error = std::move(error), .next_state = state}, clock_.WallNow());
  };

  std::shared_ptr<Plugin> plugin = plugins_.Find(run.plugin);
  if (plugin == nullptr || !plugin->Implements(run.hook_point)) {
    return record_final(HookRunState::kAbandoned,
                        StrCat("plugin \"", run.plugin, "\" is not enabled for ",
                               ToString(run.hook_point)));
  }
  absl::StatusOr<HookSubject> subject = DecodeHookSubject(run.subject_snapshot);
  absl::Status status = subject.status();
  if (status.ok()) status = subject->ValidateFor(run.hook_point);
  if (!status.ok()) {
    // The stored snapshot is unusable; retrying reads the same bytes.
    return record_final(HookRunState::kFailed, StrCat("bad subject snapshot: ", status.ToString()));
  }

  const AfterHookContext context{.hook_point = run.hook_point,
                                 .idempotency_key = run.idempotency_key,
                                 .run_id = run.id,
                                 .attempt = run.attempts};
  try {
    status = plugin->RunAfterHook(*subject, context);
  } catch (const std::exception& e) {
    status = absl::InternalError(StrCat("hook threw: ", e.what()));
  } catch (...) {
    status = absl::InternalError("hook threw");
  }

  if (status.ok()) {
    ++result.succeeded;
    return store_.RecordSuccess(run.id, clock_.WallNow());
  }
  if (IsPermanentHookError(status)) return record_final(HookRunState::kFailed, status.ToString());
  if (run.attempts >= options_.max_attempts) {
    return record_final(HookRunState::kAbandoned,
                        StrCat(status.ToString(), " (gave up after ", run.attempts, " attempts)"));
  }
  ++result.retry_scheduled;
  const auto now = clock_.WallNow();
  return store_.RecordFailure(
      run.id,
      HookRunFailure{.error = status.ToString(),
                     .next_state = HookRunState::kRetryScheduled,
                     .next_attempt_at = now + BackoffAfter(run.attempts, options_)},
      now);
}

}  // namespace posd::hooks
