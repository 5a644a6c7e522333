#include "service/posd/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <string>

#include "spdlog/spdlog.h"

namespace posd {

void NotifySystemd(std::string_view state) {
  const int result = sd_notify(0, std::string(state).c_str());
  if (result < 0) spdlog::warn("cannot notify systemd: error {}", -result);
}

std::optional<std::chrono::microseconds> WatchdogPingInterval() {
  uint64_t timeout_usec = 0;
  if (sd_watchdog_enabled(0, &timeout_usec) <= 0 || timeout_usec == 0) return std::nullopt;
  return std::chrono::microseconds(timeout_usec / 2);
}

}  // namespace posd
