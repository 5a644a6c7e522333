#include "service/posd/daemon.h"

#include <signal.h>

#include <filesystem>
#include <memory>

#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "service/api/admin_service.h"
#include "service/api/api_server.h"
#include "service/api/audit_service.h"
#include "service/api/device_auto_add.h"
#include "service/api/device_service.h"
#include "service/api/event_service.h"
#include "service/api/hook_service.h"
#include "service/api/order_service.h"
#include "service/api/payment_service.h"
#include "service/api/plugin_service.h"
#include "service/common/clock.h"
#include "service/common/strings.h"
#include "service/common/version.h"
#include "service/config/config.h"
#include "service/config/log_level.h"
#include "service/devices/device_manager.h"
#include "service/devices/device_registry.h"
#include "service/discovery/discovery_hub.h"
#include "service/websocket/websocket_options.h"
#include "service/engine/engine.h"
#include "service/engine/plugin_hook_points.h"
#include "service/engine/request_journal.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/outbox_runner.h"
#include "service/hooks/plugin_registry.h"
#include "service/posd/discovery_sources.h"
#include "service/posd/http_edge.h"
#include "service/posd/logging.h"
#include "service/posd/systemd_notify.h"
#include "service/store/store.h"
#include "spdlog/spdlog.h"

namespace posd {
namespace {

std::string Absolute(const std::string& path) {
  std::error_code ignored;
  const auto absolute = std::filesystem::absolute(path, ignored);
  return absolute.empty() ? path : absolute.lexically_normal().string();
}

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

// Blocks until SIGTERM or SIGINT arrives; returns its number.
int WaitForTerminationSignal(const sigset_t& signals) {
  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  return signal_number;
}

// The configuration's devices as registry records (already validated by
// the configuration loader; a relative port is taken from the working folder).
absl::StatusOr<std::vector<devices::DeviceRecord>> ConfiguredDevices(const config::Config& config) {
  std::vector<devices::DeviceRecord> records;
  for (const auto& device : config.devices()) {
    devices::DeviceRecord record;
    record.id = device.id();
    record.name = device.name();
    record.from_config = true;
    if (device.has_websocket()) {
      record.link = devices::LinkKind::kWebSocket;
      // No address: the device follows discovery alone.
      if (!device.websocket().address().empty()) {
        auto endpoint = websocket::ParseHostPort(device.websocket().address());
        if (!endpoint.ok()) {
          return absl::InvalidArgumentError(StrCat("devices: ", record.id,
                                                   ": websocket.address: ",
                                                   endpoint.status().message()));
        }
        record.websocket.endpoint = *std::move(endpoint);
      }
      record.websocket.endpoint.path = device.websocket().path();
      record.websocket.terminal_id = device.websocket().terminal_id();
      record.websocket.tls = device.websocket().tls();
      if (absl::Status valid = devices::ValidateRecord(record); !valid.ok()) {
        return absl::InvalidArgumentError(StrCat("devices: ", record.id, ": ", valid.message()));
      }
      records.push_back(std::move(record));
      continue;
    }
    record.serial.port = Absolute(device.serial().port());
    record.serial.baud = static_cast<int>(device.serial().baud());
    record.serial.data_bits = static_cast<int>(device.serial().data_bits());
    auto parity = transport::ParseParity(device.serial().parity());
    auto stop_bits = transport::ParseStopBits(device.serial().stop_bits());
    auto flow = transport::ParseFlowControl(device.serial().flow_control());
    if (!parity.ok()) return parity.status();
    if (!stop_bits.ok()) return stop_bits.status();
    if (!flow.ok()) return flow.status();
    record.serial.parity = *parity;
    record.serial.stop_bits = *stop_bits;
    record.serial.flow_control = *flow;
    record.from_config = true;
    if (absl::Status valid = devices::ValidateRecord(record); !valid.ok()) {
      return absl::InvalidArgumentError(StrCat("devices: ", record.id, ": ", valid.message()));
    }
    records.push_back(std::move(record));
  }
  return records;
}

// The `terminals:` timers (validated and defaulted by the config loader).
void ApplyTerminalTimers(const config::v1::Terminals& t, devices::DeviceManagerOptions& options) {
  using std::chrono::milliseconds;
  options.channel.heartbeat_interval = milliseconds(t.heartbeat_interval_ms());
  options.channel.heartbeat_max_missed = t.heartbeat_max_missed();
  options.channel.accept_timeout = milliseconds(t.accept_timeout_ms());
  options.channel.transaction_timeout = milliseconds(t.transaction_timeout_ms());
  options.channel.query_timeout = milliseconds(t.status_query_timeout_ms());
  options.channel.query_retry_interval = milliseconds(t.status_query_retry_ms());
  options.channel.handshake_timeout = milliseconds(t.handshake_timeout_ms());
  options.channel.handshake_backoff_initial = milliseconds(t.handshake_retry_initial_ms());
  options.channel.handshake_backoff_max = milliseconds(t.handshake_retry_max_ms());
  options.link.reopen_max = milliseconds(t.port_reopen_max_ms());
}

// Registers the configuration's devices (before the engine owns the write
// connection, so in a transaction of their own) and starts a driver for
// every registered device.
absl::StatusOr<std::unique_ptr<devices::DeviceManager>> StartDevices(const config::Config& config,
                                                                     store::Store& store,
                                                                     const Clock& clock) {
  auto configured = ConfiguredDevices(config);
  if (!configured.ok()) return configured.status();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             clock.WallNow().time_since_epoch())
                             .count();
  auto records = devices::SyncConfiguredDevices(store.writer(), *configured, now_ms);
  if (!records.ok()) return records.status();
  devices::DeviceManagerOptions options;
  options.clock = &clock;
  ApplyTerminalTimers(config.terminals(), options);
  // Validated by the configuration loader; unset (0) keeps the defaults.
  if (config.websocket().ping_interval_ms() != 0) {
    options.websocket.ping_interval = std::chrono::milliseconds(config.websocket().ping_interval_ms());
  }
  if (config.websocket().dead_peer_timeout_ms() != 0) {
    options.websocket.dead_peer_timeout =
        std::chrono::milliseconds(config.websocket().dead_peer_timeout_ms());
  }
  options.tls_ca_file = config.websocket().tls_ca_file();
  auto manager = devices::DeviceManager::Create(options);
  if (!manager.ok()) return manager.status();
  for (const auto& record : *records) {
    if (absl::Status added = (*manager)->Add(record); !added.ok()) return added;
  }
  return manager;
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  // Block the termination signals before any thread starts, so that every
  // thread inherits the mask and only sigwait below receives them.
  sigset_t termination_signals;
  sigemptyset(&termination_signals);
  sigaddset(&termination_signals, SIGTERM);
  sigaddset(&termination_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &termination_signals, nullptr);

  SetUpLogging(spdlog::level::info);
  const Clock& clock = RealClock::Get();
  const auto started_at = clock.WallNow();
  const auto started_steady = clock.Now();

  absl::StatusOr<config::Config> config =
      options.config_path.empty() ? config::ParseConfig("", "(defaults)")
                                  : config::LoadConfigFile(options.config_path);
  if (!config.ok()) {
    spdlog::critical("configuration refused: {}", ToStd(config.status().message()));
    return kExitStartFailed;
  }
  spdlog::set_level(*config::ParseLogLevel(config->logging().level()));
  spdlog::info("posd {} starting (config {})", kVersion,
               options.config_path.empty() ? "built-in defaults" : Absolute(options.config_path));

  // Plugins are part of the configuration: one that is unknown or badly set
  // up stops posd here, before anything is opened.
  absl::StatusOr<hooks::PluginSet> plugins = hooks::LoadPlugins(config->plugins());
  if (!plugins.ok()) {
    spdlog::critical("plugins refused: {}", ToStd(plugins.status().message()));
    return kExitStartFailed;
  }
  for (const auto& loaded : plugins->plugins()) {
    spdlog::info("plugin {} enabled", loaded.plugin->name());
  }

  auto store = store::Store::Open({.path = config->storage().database_path(), .clock = &clock});
  if (!store.ok()) {
    spdlog::critical("database refused: {}", ToStd(store.status().message()));
    return kExitStartFailed;
  }
  spdlog::info("database {} at schema version {} (instance {})", Absolute((*store)->path()),
               (*store)->schema_version(), (*store)->instance_id());

  auto server_options = ServerOptions(*config);
  if (!server_options.ok()) {
    spdlog::critical("cannot serve: {}", ToStd(server_options.status().message()));
    return kExitStartFailed;
  }
  if (options.check_only) {
    spdlog::info("configuration and database are fine; --check-config: not serving");
    return kExitOk;
  }

  // Every discovery source feeds the hub; the device follower and the
  // DiscoverDevices streams subscribe to it. Outlives both.
  discovery::DiscoveryHub discovery_hub;
  std::unique_ptr<engine::DevicePort> devices;
  devices::DeviceManager* device_manager = nullptr;  // owned by `devices`
  if (options.device_port_factory) {
    auto made = options.device_port_factory(*config);
    if (!made.ok()) {
      spdlog::critical("terminals refused: {}", ToStd(made.status().message()));
      return kExitStartFailed;
    }
    devices = *std::move(made);
  } else {
    auto manager = StartDevices(*config, **store, clock);
    if (!manager.ok()) {
      spdlog::critical("terminals refused: {}", ToStd(manager.status().message()));
      return kExitStartFailed;
    }
    device_manager = manager->get();
    devices = *std::move(manager);
  }
  // Before-hooks run inside the engine's commands, through the chain (each
  // within the time limit); after-hooks run from the outbox on the runner.
  const config::v1::Hooks& hook_config = config->hooks();
  hooks::HookChain hook_chain(
      *plugins,
      {.time_limit = std::chrono::milliseconds(hook_config.before_hook_time_limit_ms())});
  engine::PluginHookPoints hook_points(hook_chain);
  const hooks::OutboxRunnerOptions outbox_options{
      .initial_backoff = std::chrono::milliseconds(hook_config.after_hook_initial_backoff_ms()),
      .max_backoff = std::chrono::milliseconds(hook_config.after_hook_max_backoff_ms()),
      .max_attempts = static_cast<int>(hook_config.after_hook_max_attempts())};

  // The engine owns the write connection from here on; everything that
  // writes goes through it (the journal too).
  auto engine = engine::Engine::Start({.store = store->get(),
                                       .devices = devices.get(),
                                       .hooks = &hook_points,
                                       .clock = &clock,
                                       .hook_max_attempts = outbox_options.max_attempts});
  if (!engine.ok()) {
    spdlog::critical("engine refused to start: {}", ToStd(engine.status().message()));
    return kExitStartFailed;
  }
  // After the engine, so its recovery ran; Start resumes runs a previous
  // process left pending or cut short, and the engine wakes the runner
  // after every commit that adds runs.
  hooks::OutboxRunner outbox(**engine, *plugins, clock, outbox_options);
  (*engine)->SetHookRunsListener([&outbox] { outbox.Wake(); });
  if (absl::Status started = outbox.Start(); !started.ok()) {
    spdlog::critical("hook outbox refused to start: {}", ToStd(started.message()));
    (*engine)->SetHookRunsListener(nullptr);
    return kExitStartFailed;
  }
  // Discovery starts once the engine can register auto-added terminals.
  std::unique_ptr<api::DeviceAutoAdder> auto_adder;
  std::unique_ptr<discovery::DiscoveryHub::Subscription> following;
  std::unique_ptr<DiscoverySources> discovery_sources;
  if (device_manager != nullptr) {
    if (config->discovery().auto_add()) {
      auto_adder = std::make_unique<api::DeviceAutoAdder>(*device_manager, **engine, clock);
      device_manager->SetUnboundTerminalObserver(
          [adder = auto_adder.get()](const discovery::Announcement& announcement) {
            adder->Offer(announcement);
          });
    }
    following = discovery_hub.Subscribe(
        [device_manager](const discovery::DiscoveryEvent& event) {
          device_manager->OnDiscoveryEvent(event);
        },
        /*include_current=*/true);
    discovery_sources = DiscoverySources::Start(config->discovery(), *device_manager, discovery_hub);
  }
  engine::RequestJournal journal(**engine, clock);
  api::OrderService order_service(**engine);
  api::PaymentService payment_service(**engine);
  api::PluginService plugin_service(*plugins, hooks::PluginRegistry::Global());
  api::HookService hook_service(**engine);
  api::AuditService audit_service((*engine)->queries());
  metrics::Metrics metrics;  // outlives the services and the HTTP edge that count in it
  api::EventService event_service((*engine)->broadcaster(), (*engine)->queries(),
                                  (*store)->instance_id());
  event_service.CountStreamsIn(&metrics);
  api::AdminService admin_service(
      api::ServerFacts{
          .version = kVersion,
          .started_at = started_at,
          .started_steady = started_steady,
          .database_path = Absolute((*store)->path()),
          .schema_version = (*store)->schema_version(),
          .instance_id = (*store)->instance_id(),
          .config_json = ConfigJson(*config),
          .config_path = options.config_path.empty() ? "" : Absolute(options.config_path),
      },
      clock, journal);

  std::vector<grpc::Service*> services = {&admin_service,  &order_service, &payment_service,
                                          &event_service,  &plugin_service, &hook_service,
                                          &audit_service};
  std::unique_ptr<api::DeviceService> device_service;
  if (device_manager != nullptr) {
    // Device state changes reach every UI as live-only DEVICE_CHANGED events.
    device_manager->SetDeviceObserver(
        [&broadcaster = (*engine)->broadcaster(), &clock](const posd::v1::Device& device) {
          posd::v1::Event event;
          event.set_kind(posd::v1::EVENT_KIND_DEVICE_CHANGED);
          *event.mutable_occurred_at() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
              std::chrono::duration_cast<std::chrono::nanoseconds>(
                  clock.WallNow().time_since_epoch())
                  .count());
          *event.mutable_device() = device;
          broadcaster.PublishLive(std::move(event));
        });
    device_service = std::make_unique<api::DeviceService>(
        *device_manager, **engine, clock,
        options.config_path.empty() ? "" : Absolute(options.config_path));
    device_service->SetDiscovery(&discovery_hub);
    services.push_back(device_service.get());
  }
  auto server = api::ApiServer::Start(*server_options, std::move(services));
  if (!server.ok()) {
    spdlog::critical("cannot serve: {}", ToStd(server.status().message()));
    outbox.Stop();
    (*engine)->SetHookRunsListener(nullptr);
    return kExitStartFailed;
  }
  auto http_edge = HttpEdge::Start(*config, (*server)->InProcessChannel(), metrics);
  if (!http_edge.ok()) {
    spdlog::critical("cannot serve HTTP: {}", ToStd(http_edge.status().message()));
    (*server)->Shutdown(std::chrono::milliseconds(0));
    outbox.Stop();
    (*engine)->SetHookRunsListener(nullptr);
    return kExitStartFailed;
  }
  if (*http_edge) {
    spdlog::info("serving gRPC-Web, /ui/ and /metrics over HTTP{} on port {} ({})",
                 config->http().tls_certificate_file().empty() ? "" : "S", (*http_edge)->port(),
                 config->http().listen());
  }
  admin_service.SetListenAddresses((*server)->listen_addresses());
  for (const auto& address : (*server)->listen_addresses()) {
    spdlog::info("serving the API on {}", address);
  }
  NotifySystemd("READY=1\nSTATUS=serving");

  const int signal_number = WaitForTerminationSignal(termination_signals);
  spdlog::info("{} received: draining calls (up to {} ms)", strsignal(signal_number),
               config->server().shutdown_grace_ms());
  NotifySystemd("STOPPING=1\nSTATUS=draining calls");
  // Event streams never end by themselves: end them first so the drain
  // below waits only for unary calls.
  event_service.StopWatching();
  if (device_service) device_service->StopTracing();
  if (*http_edge) (*http_edge)->Stop();  // its bridged calls end before the server drains
  (*server)->Shutdown(std::chrono::milliseconds(config->server().shutdown_grace_ms()));
  server->reset();
  if (device_manager != nullptr) device_manager->SetDeviceObserver(nullptr);  // before the broadcaster goes
  // Discovery stops before the engine (auto_add writes through it) and the
  // links it steers.
  if (device_manager != nullptr) device_manager->SetUnboundTerminalObserver(nullptr);
  discovery_sources.reset();
  following.reset();
  auto_adder.reset();
  // The runner finishes the attempt in progress and stops before the engine
  // it writes through; a run cut short is resumed at the next start.
  outbox.Stop();
  (*engine)->SetHookRunsListener(nullptr);
  (*engine)->Stop();  // finishes queued commands, detaches from the terminals
  engine->reset();
  devices.reset();  // closes the terminal links (before the database closes)
  store->reset();
  spdlog::info("posd stopped cleanly");
  return kExitOk;
}

}  // namespace posd
