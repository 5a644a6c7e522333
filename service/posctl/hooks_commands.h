// posctl hooks list|show|retry, and posctl audit list
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "service/posctl/cli_context.h"

namespace posd::posctl {

struct HooksArguments {
  std::string run_id;
  std::vector<std::string> states;
  std::string hook_point;
  std::string plugin;
  std::string subject_id;
  int page_size = 0;
  std::string page_token;
  std::string reason;
  std::string request_id;
};

struct AuditArguments {
  std::vector<std::string> actions;
  std::string subject_id;
  std::string principal;
  std::string since;
  std::string until;
  std::string outcome;  // "succeeded", "refused" or empty for both
  int page_size = 0;
  std::string page_token;
};

// Adds `hooks` to `app`; see AddAdminCommands for `command`.
void AddHooksCommands(CLI::App& app, HooksArguments& arguments, Command& command);
// Adds `audit` to `app`.
void AddAuditCommands(CLI::App& app, AuditArguments& arguments, Command& command);

}  // namespace posd::posctl
