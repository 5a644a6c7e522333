// A HookRunStore in memory, for tests of the outbox runner, the API and
// anything else that needs hook runs without SQLite. It follows the contract
// of hook_run_store.h, so it doubles as an executable description of it.
//
// Thread safety: thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/hook_run_store.h"

namespace posd::hooks::testing {

class InMemoryHookRunStore final : public HookRunStore {
 public:
  // Inserts a PENDING run due at `now`, as the engine does with the
  // transition; ids are "hook_<n>" in insertion order. Returns the id.
  std::string Insert(const PlannedHookRun& planned, std::string subject_snapshot,
                     std::chrono::system_clock::time_point now, uint64_t trigger_sequence = 0);
  // Overwrites a run, e.g. to leave one RUNNING as a crash would.
  void Put(HookRun run);
  // Every run, in insertion order.
  std::vector<HookRun> All() const;

  absl::StatusOr<int> RecoverInterrupted(std::chrono::system_clock::time_point now) override;
  absl::StatusOr<std::vector<HookRun>> ClaimDueRuns(std::chrono::system_clock::time_point now,
                                                    int limit) override;
  absl::Status RecordSuccess(std::string_view run_id,
                             std::chrono::system_clock::time_point now) override;
  absl::Status RecordFailure(std::string_view run_id, const HookRunFailure& failure,
                             std::chrono::system_clock::time_point now) override;
  absl::StatusOr<std::optional<std::chrono::system_clock::time_point>> NextDueAt() override;
  absl::StatusOr<HookRunPage> ListRuns(const HookRunFilter& filter) override;
  absl::StatusOr<HookRun> GetRun(std::string_view run_id) override;
  absl::StatusOr<HookRun> RetryRun(std::string_view run_id,
                                   std::chrono::system_clock::time_point now) override;

 private:
  HookRun* FindLocked(std::string_view run_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<HookRun> runs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace posd::hooks::testing
