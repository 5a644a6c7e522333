#include "service/posctl/admin_commands.h"

#include <iostream>
#include <random>

#include "grpc/health/v1/health.grpc.pb.h"
#include "posd/v1/admin.grpc.pb.h"

namespace posd::posctl {
namespace {

// A fresh idempotency key for a change made from the command line.
std::string NewRequestId() {
  std::random_device device;
  std::mt19937_64 random(device());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "posctl-";
  for (int i = 0; i < 24; ++i) id.push_back(kHex[random() % 16]);
  return id;
}

int Status(CliContext& context) {
  auto stub = posd::v1::AdminService::NewStub(context.Channel());
  posd::v1::ServerInfo info;
  const auto call = context.NewCall();
  const grpc::Status status = stub->GetServerInfo(call.get(), {}, &info);
  if (!status.ok()) return context.Fail(status, "status");
  context.Print(info);
  return kExitOk;
}

int Health(CliContext& context, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(context.Channel());
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const auto call = context.NewCall();
  const grpc::Status status = stub->Check(call.get(), request, &response);
  if (!status.ok()) {
    // A health probe answers yes or no: an unreachable posd is "not serving".
    context.Fail(status, "health check");
    return kExitNegative;
  }
  if (context.output() == OutputFormat::kJson) {
    context.Print(response);
  } else {
    std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())
              << "\n";
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk
                                                                              : kExitNegative;
}

int Config(CliContext& context) {
  auto stub = posd::v1::AdminService::NewStub(context.Channel());
  posd::v1::GetConfigResponse response;
  const auto call = context.NewCall();
  const grpc::Status status = stub->GetConfig(call.get(), {}, &response);
  if (!status.ok()) return context.Fail(status, "config");
  if (context.output() == OutputFormat::kJson) {
    context.Print(response);
  } else {
    std::cout << "# " << (response.config_path().empty() ? "built-in defaults" : response.config_path())
              << "\n"
              << response.config_json() << "\n";
  }
  return kExitOk;
}

int SetLogLevel(CliContext& context, const std::string& level, const std::string& request_id) {
  posd::v1::SetLogLevelRequest request;
  posd::v1::LogLevel parsed = posd::v1::LOG_LEVEL_UNSPECIFIED;
  std::string upper;
  for (const char c : level) upper.push_back(static_cast<char>(std::toupper(c)));
  if (!posd::v1::LogLevel_Parse("LOG_LEVEL_" + upper, &parsed)) {
    std::cerr << "posctl: '" << level
              << "' is not a log level (trace, debug, info, warn, error, critical, off)\n";
    return kExitUsage;
  }
  request.set_level(parsed);
  request.set_request_id(request_id.empty() ? NewRequestId() : request_id);
  auto stub = posd::v1::AdminService::NewStub(context.Channel());
  posd::v1::SetLogLevelResponse response;
  const auto call = context.NewCall();
  const grpc::Status status = stub->SetLogLevel(call.get(), request, &response);
  if (!status.ok()) return context.Fail(status, "log-level");
  context.Print(response);
  return kExitOk;
}

}  // namespace

void AddAdminCommands(CLI::App& app, AdminArguments& arguments, Command& command) {
  app.add_subcommand("status", "show posd's version, uptime, database and addresses")
      ->callback([&] { command = Status; });

  auto* health = app.add_subcommand(
      "health", "exit 0 when posd is serving, 1 when it is not (or cannot be reached)");
  health->add_option("--service", arguments.health_service,
                     "a single service to check (default: the server as a whole)");
  health->callback([&] {
    command = [&](CliContext& context) { return Health(context, arguments.health_service); };
  });

  app.add_subcommand("config", "show the effective configuration posd runs with")
      ->callback([&] { command = Config; });

  auto* log_level = app.add_subcommand("log-level", "change posd's log level until it restarts");
  log_level->add_option("level", arguments.log_level,
                        "trace, debug, info, warn, error, critical or off")
      ->required();
  log_level->add_option("--request-id", arguments.request_id,
                        "idempotency key; a retry with the same key changes nothing");
  log_level->callback([&] {
    command = [&](CliContext& context) {
      return SetLogLevel(context, arguments.log_level, arguments.request_id);
    };
  });
}

}  // namespace posd::posctl
