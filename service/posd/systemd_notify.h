// Readiness, status and watchdog notifications to systemd (Type=notify).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace posd {

// Sends `state` (e.g. "READY=1") to the service manager. Does nothing when
// posd does not run under systemd (NOTIFY_SOCKET unset).
void NotifySystemd(std::string_view state);

// How often posd must send "WATCHDOG=1" when the service manager asked for
// a watchdog (WatchdogSec= in the unit, WATCHDOG_USEC in the environment):
// half the watchdog's timeout, as sd_watchdog_enabled(3) recommends.
// nullopt when no watchdog is armed.
std::optional<std::chrono::microseconds> WatchdogPingInterval();

}  // namespace posd
