#include "service/posd/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <string>

#include "spdlog/spdlog.h"

namespace posd {

void NotifySystemd(std::string_view state) {
  const int result = sd_notify(0, std::string(state).c_str());
  if (result < 0) spdlog::warn("cannot notify systemd: error {}", -result);
}

}  // namespace posd
