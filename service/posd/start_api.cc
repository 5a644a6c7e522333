// Start-up steps of the API: listeners, services and the gRPC server.
#include <cstdio>

#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "service/api/admin_service.h"
#include "service/api/audit_service.h"
#include "service/api/device_service.h"
#include "service/api/event_service.h"
#include "service/api/hook_service.h"
#include "service/api/order_service.h"
#include "service/api/payment_service.h"
#include "service/api/plugin_service.h"
#include "service/common/strings.h"
#include "service/common/version.h"
#include "service/devices/device_manager.h"
#include "service/engine/engine.h"
#include "service/engine/request_journal.h"
#include "service/hooks/plugin_registry.h"
#include "service/hooks/plugin_set.h"
#include "service/posd/paths.h"
#include "service/posd/startup_steps.h"
#include "service/store/store.h"
#include "spdlog/spdlog.h"

namespace posd {
namespace {

// The configuration as GetConfig shows it: every secret's location stays,
// but no secret itself is ever in the config (tokens live in files).
std::string ConfigJson(const config::Config& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(config, &json, options).ok()) return "{}";
  return json;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::FailedPreconditionError(StrCat("cannot read ", what, " ", path));
  }
  std::string content;
  char buffer[4096];
  std::size_t count;
  while ((count = std::fread(buffer, 1, sizeof(buffer), file)) > 0) content.append(buffer, count);
  std::fclose(file);
  return content;
}

absl::StatusOr<api::ApiServerOptions> ServerOptions(const config::Config& config) {
  api::ApiServerOptions options;
  options.unix_socket_path = config.server().unix_socket();
  auto mode = config::ParseSocketMode(config.server().unix_socket_mode());
  if (!mode.ok()) return mode.status();
  options.unix_socket_mode = *mode;
  if (config.server().has_tcp()) {
    const auto& tcp = config.server().tcp();
    api::TcpListenerOptions listener;
    listener.address = tcp.address();
    auto certificate = ReadWholeFile(tcp.tls_certificate_file(), "the TLS certificate");
    if (!certificate.ok()) return certificate.status();
    auto key = ReadWholeFile(tcp.tls_private_key_file(), "the TLS private key");
    if (!key.ok()) return key.status();
    listener.tls_certificate_chain_pem = *certificate;
    listener.tls_private_key_pem = *key;
    for (const auto& token : tcp.tokens()) {
      auto text = ReadWholeFile(token.token_file(), "the token file");
      if (!text.ok()) return text.status();
      std::string value = text->substr(0, text->find('\n'));
      if (value.size() < 32) {
        return absl::InvalidArgumentError(
            StrCat("the token in ", token.token_file(), " is shorter than 32 characters"));
      }
      const api::Role role = token.role() == config::v1::ROLE_UI         ? api::Role::kUi
                             : token.role() == config::v1::ROLE_FLEET    ? api::Role::kFleet
                                                                         : api::Role::kOperator;
      listener.roles_by_token.emplace(std::move(value), role);
    }
    options.tcp = std::move(listener);
  }
  return options;
}

// Device state changes reach every UI as live-only DEVICE_CHANGED events.
void PublishDeviceChanges(devices::DeviceManager& manager, engine::EventBroadcaster& broadcaster,
                          const Clock& clock) {
  manager.SetDeviceObserver([&broadcaster, &clock](const posd::v1::Device& device) {
    posd::v1::Event event;
    event.set_kind(posd::v1::EVENT_KIND_DEVICE_CHANGED);
    *event.mutable_occurred_at() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock.WallNow().time_since_epoch())
            .count());
    *event.mutable_device() = device;
    broadcaster.PublishLive(std::move(event));
  });
}

}  // namespace

absl::Status PrepareApiListeners(DaemonContext& context) {
  auto options = ServerOptions(context.config);
  if (!options.ok()) return options.status();
  context.server_options = *std::move(options);
  return absl::OkStatus();
}

absl::Status BuildApiServices(DaemonContext& context) {
  engine::Engine& engine = *context.engine;
  context.journal = std::make_unique<engine::RequestJournal>(engine, context.clock);
  const std::string config_path =
      context.options.config_path.empty() ? "" : AbsolutePath(context.options.config_path);

  auto admin = std::make_unique<api::AdminService>(
      api::ServerFacts{
          .version = kVersion,
          .started_at = context.started_at,
          .started_steady = context.started_steady,
          .database_path = AbsolutePath(context.store->path()),
          .schema_version = context.store->schema_version(),
          .instance_id = context.store->instance_id(),
          .config_json = ConfigJson(context.config),
          .config_path = config_path,
      },
      context.clock, *context.journal);
  auto events = std::make_unique<api::EventService>(engine.broadcaster(), engine.queries(),
                                                    context.store->instance_id());
  events->CountStreamsIn(&context.metrics);
  context.admin_service = admin.get();
  context.event_service = events.get();
  context.services.push_back(std::move(admin));
  context.services.push_back(std::make_unique<api::OrderService>(engine));
  context.services.push_back(std::make_unique<api::PaymentService>(engine));
  context.services.push_back(std::move(events));
  context.services.push_back(
      std::make_unique<api::PluginService>(*context.plugins, hooks::PluginRegistry::Global()));
  context.services.push_back(std::make_unique<api::HookService>(engine));
  context.services.push_back(std::make_unique<api::AuditService>(engine.queries()));

  if (devices::DeviceManager* manager = context.device_manager; manager != nullptr) {
    PublishDeviceChanges(*manager, engine.broadcaster(), context.clock);
    // Before the broadcaster goes.
    context.stops.Push("stop publishing device changes",
                       [manager] { manager->SetDeviceObserver(nullptr); });
    auto device_service =
        std::make_unique<api::DeviceService>(*manager, engine, context.clock, config_path);
    device_service->SetDiscovery(&context.discovery_hub);
    context.device_service = device_service.get();
    context.services.push_back(std::move(device_service));
  }
  return absl::OkStatus();
}

absl::Status ServeApi(DaemonContext& context) {
  std::vector<grpc::Service*> services;
  for (const auto& service : context.services) services.push_back(service.get());
  auto server = api::ApiServer::Start(*context.server_options, std::move(services));
  if (!server.ok()) return server.status();
  context.server = *std::move(server);
  context.stops.Push("drain the API", [&context] {
    context.server->Shutdown(
        std::chrono::milliseconds(context.config.server().shutdown_grace_ms()));
    context.server.reset();
  });
  // Event streams never end by themselves: end them first so the drain
  // waits only for unary calls.
  context.stops.Push("end the event and trace streams", [&context] {
    context.event_service->StopWatching();
    if (context.device_service != nullptr) context.device_service->StopTracing();
  });
  context.admin_service->SetListenAddresses(context.server->listen_addresses());
  for (const auto& address : context.server->listen_addresses()) {
    spdlog::info("serving the API on {}", address);
  }
  return absl::OkStatus();
}

}  // namespace posd
