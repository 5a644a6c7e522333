// posctl: the operator's command line for posd. See docs/operations.md.
#include <iostream>
#include <map>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "service/common/version.h"
#include "service/posctl/admin_commands.h"
#include "service/posctl/devices_commands.h"
#include "service/posctl/cli_context.h"
#include "service/posctl/events_commands.h"
#include "service/posctl/hooks_commands.h"
#include "service/posctl/orders_commands.h"
#include "service/posctl/payments_commands.h"
#include "service/posctl/plugins_commands.h"

int main(int argc, char** argv) {
  using posd::posctl::CliContext;
  using posd::posctl::GlobalOptions;
  using posd::posctl::OutputFormat;

  CLI::App app{"posctl: drive a posd point-of-sale server"};
  app.require_subcommand(1);
  GlobalOptions options;
  app.add_option("-a,--address", options.address,
                 "posd's address: unix:PATH or HOST:PORT")
      ->envname("POSD_ADDRESS")
      ->capture_default_str();
  app.add_option("-t,--timeout", options.timeout, "deadline of each call, e.g. 5s or 500ms")
      ->envname("POSD_TIMEOUT")
      ->capture_default_str()
      ->check([](const std::string& text) -> std::string {
        absl::Duration duration;
        if (!absl::ParseDuration(text, &duration) || duration <= absl::ZeroDuration()) {
          return "'" + text + "' is not a positive duration such as 5s or 500ms";
        }
        return "";
      });
  app.add_option("-o,--output", options.output, "table or json")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, OutputFormat>{{"table", OutputFormat::kTable},
                                              {"json", OutputFormat::kJson}},
          CLI::ignore_case));
  app.add_option("--token-file", options.token_file,
                 "file with a bearer token, for a TCP address (uses TLS)")
      ->envname("POSD_TOKEN_FILE");
  app.add_option("--ca-file", options.ca_file, "PEM file of the CA that signed posd's certificate")
      ->envname("POSD_CA_FILE");
  app.set_version_flag("--version", std::string("posctl ") + posd::kVersion);

  posd::posctl::Command command;
  posd::posctl::AdminArguments admin_arguments;
  posd::posctl::AddAdminCommands(app, admin_arguments, command);
  posd::posctl::OrdersArguments orders_arguments;
  posd::posctl::AddOrdersCommands(app, orders_arguments, command);
  posd::posctl::PaymentsArguments payments_arguments;
  posd::posctl::AddPaymentsCommands(app, payments_arguments, command);
  posd::posctl::EventsArguments events_arguments;
  posd::posctl::AddEventsCommands(app, events_arguments, command);
  posd::posctl::PluginsArguments plugins_arguments;
  posd::posctl::AddPluginsCommands(app, plugins_arguments, command);
  posd::posctl::DevicesArguments devices_arguments;
  posd::posctl::AddDevicesCommands(app, devices_arguments, command);
  posd::posctl::HooksArguments hooks_arguments;
  posd::posctl::AddHooksCommands(app, hooks_arguments, command);
  posd::posctl::AuditArguments audit_arguments;
  posd::posctl::AddAuditCommands(app, audit_arguments, command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? posd::posctl::kExitOk : posd::posctl::kExitUsage;
  }
  CliContext context(options);
  return command(context);
}
