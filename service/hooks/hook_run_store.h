// The storage the outbox runner and the API need for hook runs.
//
// Implemented by the engine, which owns the only write connection: each
// write below becomes a command on the engine's queue and returns once
// committed. Rows are inserted by the engine itself, in the transaction of the
// transition (hook_chain.h), never through this interface.
//
// Thread safety: implementations are thread-safe; the runner calls from its
// thread, the API from gRPC threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/hooks/hook_point.h"
#include "service/hooks/hook_run.h"

namespace posd::hooks {

// How an attempt ended badly, and what happens next.
struct HookRunFailure {
  std::string error;  // the plugin's status, as text
  // RETRY_SCHEDULED (then next_attempt_at is set), FAILED or ABANDONED.
  HookRunState next_state = HookRunState::kRetryScheduled;
  std::optional<std::chrono::system_clock::time_point> next_attempt_at = {};
};

struct HookRunFilter {
  std::vector<HookRunState> states = {};      // empty: any
  std::optional<HookPoint> hook_point = {};   // absent: any
  std::string plugin = {};                    // empty: any
  std::string subject_id = {};                // empty: any
  int page_size = 50;
  // next_page_token of the previous page; empty for the first.
  std::string page_token = {};
};

struct HookRunPage {
  std::vector<HookRun> runs;  // newest first
  std::string next_page_token = {};  // empty on the last page
};

class HookRunStore {
 public:
  virtual ~HookRunStore() = default;

  // Makes runs left RUNNING by a previous process (it stopped mid-attempt)
  // RETRY_SCHEDULED and due at `now`: the attempt may or may not have
  // happened, which is why hooks are at-least-once and keyed. Called by the
  // runner once when it starts. Returns how many were recovered.
  virtual absl::StatusOr<int> RecoverInterrupted(std::chrono::system_clock::time_point now) = 0;

  // Marks up to `limit` claimable runs with next_attempt_at <= now RUNNING,
  // increments their attempts, and returns them (with their snapshots),
  // oldest due first.
  virtual absl::StatusOr<std::vector<HookRun>> ClaimDueRuns(
      std::chrono::system_clock::time_point now, int limit) = 0;

  // RUNNING -> SUCCEEDED. NOT_FOUND for an unknown id; FAILED_PRECONDITION
  // when the run is not RUNNING.
  virtual absl::Status RecordSuccess(std::string_view run_id,
                                     std::chrono::system_clock::time_point now) = 0;
  // RUNNING -> failure.next_state. Errors as RecordSuccess.
  virtual absl::Status RecordFailure(std::string_view run_id, const HookRunFailure& failure,
                                     std::chrono::system_clock::time_point now) = 0;

  // When the earliest claimable run is due; absent when none is. The runner
  // sleeps until then (or until woken).
  virtual absl::StatusOr<std::optional<std::chrono::system_clock::time_point>> NextDueAt() = 0;

  // For the API. INVALID_ARGUMENT for a bad page token.
  virtual absl::StatusOr<HookRunPage> ListRuns(const HookRunFilter& filter) = 0;
  // NOT_FOUND for an unknown id.
  virtual absl::StatusOr<HookRun> GetRun(std::string_view run_id) = 0;
  // FAILED / ABANDONED / RETRY_SCHEDULED -> RETRY_SCHEDULED due at `now`,
  // attempts reset to 0 (a fresh budget), last_error kept. NOT_FOUND for an
  // unknown id, FAILED_PRECONDITION for any other state.
  virtual absl::StatusOr<HookRun> RetryRun(std::string_view run_id,
                                           std::chrono::system_clock::time_point now) = 0;
};

}  // namespace posd::hooks
