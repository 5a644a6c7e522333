// posctl orders create | show | list | place | cancel
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "service/posctl/cli_context.h"

namespace posd::posctl {

struct OrdersArguments {
  std::string currency = "EUR";
  std::vector<std::string> lines;  // SKU:QTY:PRICE[:NAME]
  std::vector<std::string> coupons;
  std::string reference;
  std::string note;
  bool place = false;
  std::string order_id;
  std::string reason;
  std::vector<std::string> statuses;
  int page_size = 0;
  std::string page_token;
  std::string request_id;
};

// Adds `orders` and its verbs to `app`; see AddAdminCommands for `command`.
void AddOrdersCommands(CLI::App& app, OrdersArguments& arguments, Command& command);

}  // namespace posd::posctl
