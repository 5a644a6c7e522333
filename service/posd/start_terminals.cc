// Start-up steps of the terminals: the device manager (or a test's device
// port) and the discovery sources that steer it.
#include "service/api/device_auto_add.h"
#include "service/common/strings.h"
#include "service/devices/device_manager.h"
#include "service/devices/device_registry.h"
#include "service/engine/engine.h"
#include "service/posd/discovery_sources.h"
#include "service/posd/paths.h"
#include "service/posd/startup_steps.h"
#include "service/store/store.h"
#include "service/websocket/websocket_options.h"
#include "spdlog/spdlog.h"

namespace posd {
namespace {

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
    record.serial.port = AbsolutePath(device.serial().port());
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

absl::Status StartTerminals(DaemonContext& context) {
  if (context.options.device_port_factory) {
    auto made = context.options.device_port_factory(context.config);
    if (!made.ok()) return made.status();
    context.devices = *std::move(made);
  } else {
    auto manager = StartDevices(context.config, *context.store, context.clock);
    if (!manager.ok()) return manager.status();
    context.device_manager = manager->get();
    context.devices = *std::move(manager);
  }
  // Closes the terminal links after the engine detached from them, before
  // the database closes.
  context.stops.Push("close the terminal links", [&context] {
    context.device_manager = nullptr;
    context.devices.reset();
  });
  return absl::OkStatus();
}

// Discovery starts once the engine can register auto-added terminals, and
// stops before the engine (auto_add writes through it) and the links it
// steers.
absl::Status StartDiscovery(DaemonContext& context) {
  devices::DeviceManager* manager = context.device_manager;
  if (manager == nullptr) return absl::OkStatus();
  if (context.config.discovery().auto_add()) {
    context.auto_adder =
        std::make_unique<api::DeviceAutoAdder>(*manager, *context.engine, context.clock);
    manager->SetUnboundTerminalObserver(
        [adder = context.auto_adder.get()](const discovery::Announcement& announcement) {
          adder->Offer(announcement);
        });
  }
  context.following = context.discovery_hub.Subscribe(
      [manager](const discovery::DiscoveryEvent& event) { manager->OnDiscoveryEvent(event); },
      /*include_current=*/true);
  context.discovery_sources =
      DiscoverySources::Start(context.config.discovery(), *manager, context.discovery_hub);
  context.stops.Push("stop discovery", [&context, manager] {
    manager->SetUnboundTerminalObserver(nullptr);
    context.discovery_sources.reset();
    context.following.reset();
    context.auto_adder.reset();
  });
  return absl::OkStatus();
}

}  // namespace posd
