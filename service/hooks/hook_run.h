// One run of one plugin's after-hook for one transition: a row of the
// hook_runs outbox, as the outbox runner and the API see it.
//
// Thread safety: plain values.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/hooks/hook_point.h"

namespace posd::hooks {

// The states of posd.v1.HookRunState. Transitions:
//   PENDING / RETRY_SCHEDULED --claim--> RUNNING
//   RUNNING --ok--> SUCCEEDED (final)
//   RUNNING --transient error--> RETRY_SCHEDULED, or ABANDONED at max attempts
//   RUNNING --permanent error--> FAILED
//   RUNNING --posd restarted mid-attempt--> RETRY_SCHEDULED (due now)
//   FAILED / ABANDONED / RETRY_SCHEDULED --operator retry--> RETRY_SCHEDULED
//     (due now, attempt budget renewed)
enum class HookRunState {
  kPending,
  kRunning,
  kSucceeded,
  kFailed,
  kRetryScheduled,
  kAbandoned,
};

inline constexpr std::array kAllHookRunStates = {
    HookRunState::kPending,   HookRunState::kRunning,        HookRunState::kSucceeded,
    HookRunState::kFailed,    HookRunState::kRetryScheduled, HookRunState::kAbandoned};

// "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "RETRY_SCHEDULED",
// "ABANDONED": the text stored in hook_runs.state. INVALID_ARGUMENT for any
// other name.
std::string_view ToString(HookRunState state);
absl::StatusOr<HookRunState> ParseHookRunState(std::string_view name);
// True for PENDING and RETRY_SCHEDULED: the runner may claim it when due.
bool IsClaimable(HookRunState state);
// True for FAILED, ABANDONED and RETRY_SCHEDULED: an operator may retry it.
bool IsRetryable(HookRunState state);

struct HookRun {
  std::string id;
  HookPoint hook_point;
  std::string plugin;
  // Order, payment or refund id.
  std::string subject_id;
  std::string idempotency_key;
  HookRunState state = HookRunState::kPending;
  // Attempts started so far (counted at claim, so an attempt cut short by a
  // crash counts too).
  int attempts = 0;
  std::string last_error = {};
  // Set while PENDING or RETRY_SCHEDULED.
  std::optional<std::chrono::system_clock::time_point> next_attempt_at = {};
  // Sequence of the event (transition) that created the run.
  uint64_t trigger_sequence = 0;
  std::chrono::system_clock::time_point created_at = {};
  std::chrono::system_clock::time_point updated_at = {};
  std::optional<std::chrono::system_clock::time_point> completed_at = {};
  // EncodeHookSubject bytes written with the transition (hook_subject_codec.h).
  std::string subject_snapshot = {};
};

}  // namespace posd::hooks
