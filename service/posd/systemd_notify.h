// Readiness and status notifications to systemd (Type=notify).
#pragma once

#include <string_view>

namespace posd {

// Sends `state` (e.g. "READY=1") to the service manager. Does nothing when
// posd does not run under systemd (NOTIFY_SOCKET unset).
void NotifySystemd(std::string_view state);

}  // namespace posd
