#include "service/hooks/testing/in_memory_hook_run_store.h"

#include <algorithm>
#include <charconv>

#include "service/common/strings.h"

namespace posd::hooks::testing {

std::string InMemoryHookRunStore::Insert(const PlannedHookRun& planned,
                                         std::string subject_snapshot,
                                         std::chrono::system_clock::time_point now,
                                         uint64_t trigger_sequence) {
  absl::MutexLock lock(&mu_);
  HookRun run{.id = StrCat("hook_", runs_.size() + 1),
              .hook_point = planned.hook_point,
              .plugin = planned.plugin,
              .subject_id = planned.subject_id,
              .idempotency_key = planned.idempotency_key,
              .state = HookRunState::kPending,
              .next_attempt_at = now,
              .trigger_sequence = trigger_sequence,
              .created_at = now,
              .updated_at = now,
              .subject_snapshot = std::move(subject_snapshot)};
  runs_.push_back(run);
  return run.id;
}

void InMemoryHookRunStore::Put(HookRun run) {
  absl::MutexLock lock(&mu_);
  if (HookRun* existing = FindLocked(run.id)) {
    *existing = std::move(run);
  } else {
    runs_.push_back(std::move(run));
  }
}

std::vector<HookRun> InMemoryHookRunStore::All() const {
  absl::MutexLock lock(&mu_);
  return runs_;
}

HookRun* InMemoryHookRunStore::FindLocked(std::string_view run_id) {
  for (HookRun& run : runs_) {
    if (run.id == run_id) return &run;
  }
  return nullptr;
}

absl::StatusOr<int> InMemoryHookRunStore::RecoverInterrupted(
    std::chrono::system_clock::time_point now) {
  absl::MutexLock lock(&mu_);
  int recovered = 0;
  for (HookRun& run : runs_) {
    if (run.state != HookRunState::kRunning) continue;
    run.state = HookRunState::kRetryScheduled;
    run.last_error = "interrupted by a restart of posd";
    run.next_attempt_at = now;
    run.updated_at = now;
    ++recovered;
  }
  return recovered;
}

absl::StatusOr<std::vector<HookRun>> InMemoryHookRunStore::ClaimDueRuns(
    std::chrono::system_clock::time_point now, int limit) {
  absl::MutexLock lock(&mu_);
  std::vector<HookRun*> due;
  for (HookRun& run : runs_) {
    if (IsClaimable(run.state) && run.next_attempt_at && *run.next_attempt_at <= now) {
      due.push_back(&run);
    }
  }
  std::stable_sort(due.begin(), due.end(), [](const HookRun* a, const HookRun* b) {
    return *a->next_attempt_at < *b->next_attempt_at;
  });
  if (static_cast<int>(due.size()) > limit) due.resize(limit);
  std::vector<HookRun> claimed;
  for (HookRun* run : due) {
    run->state = HookRunState::kRunning;
    run->attempts += 1;
    run->next_attempt_at.reset();
    run->updated_at = now;
    claimed.push_back(*run);
  }
  return claimed;
}

absl::Status InMemoryHookRunStore::RecordSuccess(std::string_view run_id,
                                                 std::chrono::system_clock::time_point now) {
  absl::MutexLock lock(&mu_);
  HookRun* run = FindLocked(run_id);
  if (run == nullptr) return absl::NotFoundError(StrCat("no hook run ", run_id));
  if (run->state != HookRunState::kRunning) {
    return absl::FailedPreconditionError(StrCat("hook run ", run_id, " is not RUNNING"));
  }
  run->state = HookRunState::kSucceeded;
  run->updated_at = now;
  run->completed_at = now;
  return absl::OkStatus();
}

absl::Status InMemoryHookRunStore::RecordFailure(std::string_view run_id,
                                                 const HookRunFailure& failure,
                                                 std::chrono::system_clock::time_point now) {
  absl::MutexLock lock(&mu_);
  HookRun* run = FindLocked(run_id);
  if (run == nullptr) return absl::NotFoundError(StrCat("no hook run ", run_id));
  if (run->state != HookRunState::kRunning) {
    return absl::FailedPreconditionError(StrCat("hook run ", run_id, " is not RUNNING"));
  }
  run->state = failure.next_state;
  run->last_error = failure.error;
  run->updated_at = now;
  if (failure.next_state == HookRunState::kRetryScheduled) {
    run->next_attempt_at = failure.next_attempt_at.value_or(now);
  } else {
    run->completed_at = now;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::chrono::system_clock::time_point>>
InMemoryHookRunStore::NextDueAt() {
  absl::MutexLock lock(&mu_);
  std::optional<std::chrono::system_clock::time_point> next;
  for (const HookRun& run : runs_) {
    if (!IsClaimable(run.state) || !run.next_attempt_at) continue;
    if (!next || *run.next_attempt_at < *next) next = run.next_attempt_at;
  }
  return next;
}

absl::StatusOr<HookRunPage> InMemoryHookRunStore::ListRuns(const HookRunFilter& filter) {
  absl::MutexLock lock(&mu_);
  // The page token is the index (in newest-first order) to continue from.
  size_t start = 0;
  if (!filter.page_token.empty()) {
    const char* end = filter.page_token.data() + filter.page_token.size();
    auto [ptr, ec] = std::from_chars(filter.page_token.data(), end, start);
    if (ec != std::errc() || ptr != end) return absl::InvalidArgumentError("bad page token");
  }
  std::vector<const HookRun*> matching;
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    const HookRun& run = *it;
    if (!filter.states.empty() &&
        std::find(filter.states.begin(), filter.states.end(), run.state) == filter.states.end()) {
      continue;
    }
    if (filter.hook_point && run.hook_point != *filter.hook_point) continue;
    if (!filter.plugin.empty() && run.plugin != filter.plugin) continue;
    if (!filter.subject_id.empty() && run.subject_id != filter.subject_id) continue;
    matching.push_back(&run);
  }
  HookRunPage page;
  const size_t size = filter.page_size > 0 ? static_cast<size_t>(filter.page_size) : 50;
  for (size_t i = start; i < matching.size() && page.runs.size() < size; ++i) {
    page.runs.push_back(*matching[i]);
  }
  if (start + page.runs.size() < matching.size()) {
    page.next_page_token = std::to_string(start + page.runs.size());
  }
  return page;
}

absl::StatusOr<HookRun> InMemoryHookRunStore::GetRun(std::string_view run_id) {
  absl::MutexLock lock(&mu_);
  HookRun* run = FindLocked(run_id);
  if (run == nullptr) return absl::NotFoundError(StrCat("no hook run ", run_id));
  return *run;
}

absl::StatusOr<HookRun> InMemoryHookRunStore::RetryRun(std::string_view run_id,
                                                      std::chrono::system_clock::time_point now) {
  absl::MutexLock lock(&mu_);
  HookRun* run = FindLocked(run_id);
  if (run == nullptr) return absl::NotFoundError(StrCat("no hook run ", run_id));
  if (!IsRetryable(run->state)) {
    return absl::FailedPreconditionError(
        StrCat("hook run ", run_id, " is ", ToString(run->state), ": nothing to retry"));
  }
  run->state = HookRunState::kRetryScheduled;
  run->attempts = 0;
  run->next_attempt_at = now;
  run->completed_at.reset();
  run->updated_at = now;
  return *run;
}

}  // namespace posd::hooks::testing
