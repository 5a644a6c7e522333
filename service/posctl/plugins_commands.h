// posctl plugins list|show
#pragma once

#include <string>

#include "CLI/CLI.hpp"
#include "service/posctl/cli_context.h"

namespace posd::posctl {

struct PluginsArguments {
  std::string name;
};

// Adds `plugins` to `app`; see AddAdminCommands for `command`.
void AddPluginsCommands(CLI::App& app, PluginsArguments& arguments, Command& command);

}  // namespace posd::posctl
