#include "service/engine/terminal_reservation.h"

#include "service/common/error_info.h"
#include "service/common/strings.h"

namespace posd::engine {

absl::Status TerminalReservations::Reserve(std::string_view device_id,
                                           std::string_view transaction_id, Journal& journal) {
  auto it = holders_.find(device_id);
  if (it != holders_.end()) {
    if (it->second == transaction_id) return absl::OkStatus();
    return WithErrorDetails(
        absl::FailedPreconditionError(StrCat("terminal ", QuoteInput(device_id), " is busy with ",
                                             it->second, "; start the next payment once it ends")),
        ErrorDetails{.reason = ErrorReason::kDeviceNotReady,
                     .subject_type = "device",
                     .subject_id = std::string(device_id),
                     .metadata = {{"device_state", "BUSY"}, {"busy_with", it->second}}});
  }
  journal.push_back(Change{.device_id = std::string(device_id), .previous_holder = std::nullopt});
  holders_.emplace(std::string(device_id), std::string(transaction_id));
  return absl::OkStatus();
}

void TerminalReservations::Release(std::string_view device_id, std::string_view transaction_id,
                                   Journal& journal) {
  auto it = holders_.find(device_id);
  if (it == holders_.end() || it->second != transaction_id) return;
  journal.push_back(Change{.device_id = it->first, .previous_holder = it->second});
  holders_.erase(it);
}

std::optional<std::string> TerminalReservations::Holder(std::string_view device_id) const {
  auto it = holders_.find(device_id);
  if (it == holders_.end()) return std::nullopt;
  return it->second;
}

void TerminalReservations::Undo(Journal& journal) {
  for (auto change = journal.rbegin(); change != journal.rend(); ++change) {
    if (change->previous_holder.has_value()) {
      holders_[change->device_id] = *change->previous_holder;
    } else {
      holders_.erase(change->device_id);
    }
  }
  journal.clear();
}

}  // namespace posd::engine
