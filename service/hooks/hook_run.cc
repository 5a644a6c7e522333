#include "service/hooks/hook_run.h"

#include "absl/status/status.h"
#include "service/common/strings.h"

namespace posd::hooks {

std::string_view ToString(HookRunState state) {
  switch (state) {
    case HookRunState::kPending:
      return "PENDING";
    case HookRunState::kRunning:
      return "RUNNING";
    case HookRunState::kSucceeded:
      return "SUCCEEDED";
    case HookRunState::kFailed:
      return "FAILED";
    case HookRunState::kRetryScheduled:
      return "RETRY_SCHEDULED";
    case HookRunState::kAbandoned:
      return "ABANDONED";
  }
  return "UNKNOWN";
}

absl::StatusOr<HookRunState> ParseHookRunState(std::string_view name) {
  for (HookRunState state : kAllHookRunStates) {
    if (ToString(state) == name) return state;
  }
  return absl::InvalidArgumentError(StrCat("unknown hook run state \"", name, "\""));
}

bool IsClaimable(HookRunState state) {
  return state == HookRunState::kPending || state == HookRunState::kRetryScheduled;
}

bool IsRetryable(HookRunState state) {
  return state == HookRunState::kFailed || state == HookRunState::kAbandoned ||
         state == HookRunState::kRetryScheduled;
}

}  // namespace posd::hooks
