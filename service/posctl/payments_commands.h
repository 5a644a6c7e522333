// posctl pay, and posctl payments list | show | cancel | refund | resolve
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "service/posctl/cli_context.h"

namespace posd::posctl {

struct PaymentsArguments {
  std::string order_id;
  std::string amount;
  std::string currency;
  std::string tip;
  std::string tip_preset;
  std::vector<std::string> params;
  std::string device_id;
  std::string payment_id;
  std::string reason;
  bool approved = false;
  bool declined = false;
  std::string approval_code;
  std::string terminal_reference;
  std::vector<std::string> statuses;
  int page_size = 0;
  std::string page_token;
  std::string request_id;
};

// Adds `pay` and `payments` to `app`; see AddAdminCommands for `command`.
// `pay` follows the payment until it ends: exit 0 when APPROVED, 1 when
// DECLINED, CANCELED or FAILED, 64 + the gRPC code when a call fails.
void AddPaymentsCommands(CLI::App& app, PaymentsArguments& arguments, Command& command);

}  // namespace posd::posctl
