// posctl events watch
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "service/posctl/cli_context.h"

namespace posd::posctl {

struct EventsArguments {
  std::optional<uint64_t> since;
  std::string order_id;
  std::string payment_id;
  std::string device_id;
  std::vector<std::string> kinds;
  int limit = 0;  // stop after this many events (0: follow until interrupted)
};

// Adds `events` to `app`; see AddAdminCommands for `command`.
void AddEventsCommands(CLI::App& app, EventsArguments& arguments, Command& command);

}  // namespace posd::posctl
