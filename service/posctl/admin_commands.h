// posctl status | health | log-level | config
#pragma once

#include "CLI/CLI.hpp"
#include "service/posctl/cli_context.h"

namespace posd::posctl {

// Values given to the admin commands on the command line.
struct AdminArguments {
  std::string health_service;
  std::string log_level;
  std::string request_id;
};

// Adds the commands about the posd process itself to `app`. When one of them
// is chosen, `command` is set to what it runs once the command line is
// parsed. `arguments` and `command` must outlive `app`.
void AddAdminCommands(CLI::App& app, AdminArguments& arguments, Command& command);

}  // namespace posd::posctl
