// Everything a running posd holds, filled in by the start-up steps
// (startup_steps.h) in order and torn down through its ShutdownStack.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/impl/codegen/service_type.h"
#include "service/api/api_server.h"
#include "service/common/clock.h"
#include "service/config/config.h"
#include "service/discovery/discovery_hub.h"
#include "service/engine/device_port.h"
#include "service/metrics/metrics.h"
#include "service/posd/daemon.h"
#include "service/posd/shutdown_stack.h"

namespace posd {

namespace api {
class AdminService;
class DeviceAutoAdder;
class DeviceService;
class EventService;
}  // namespace api
namespace devices {
class DeviceManager;
}
namespace engine {
class Engine;
class PluginHookPoints;
class RequestJournal;
}  // namespace engine
namespace hooks {
class HookChain;
class OutboxRunner;
class PluginSet;
}  // namespace hooks
namespace store {
class Store;
}
class DiscoverySources;
class HttpEdge;

// Owned by RunDaemon on the main thread. A step reads what earlier steps
// filled in and adds its own part; members are declared in start order so
// that whatever the stack did not reset is destroyed last-first as well.
struct DaemonContext {
  DaemonContext(const DaemonOptions& options, const Clock& clock);
  ~DaemonContext();
  DaemonContext(const DaemonContext&) = delete;
  DaemonContext& operator=(const DaemonContext&) = delete;

  const DaemonOptions& options;
  const Clock& clock;
  const std::chrono::system_clock::time_point started_at;
  const std::chrono::steady_clock::time_point started_steady;

  config::Config config;
  std::unique_ptr<hooks::PluginSet> plugins;
  std::unique_ptr<store::Store> store;
  std::optional<api::ApiServerOptions> server_options;

  // Every discovery source feeds the hub; the device follower and the
  // DiscoverDevices streams subscribe to it.
  discovery::DiscoveryHub discovery_hub;
  std::unique_ptr<engine::DevicePort> devices;
  devices::DeviceManager* device_manager = nullptr;  // owned by `devices`, if real terminals

  std::unique_ptr<hooks::HookChain> hook_chain;
  std::unique_ptr<engine::PluginHookPoints> hook_points;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<hooks::OutboxRunner> outbox;

  std::unique_ptr<api::DeviceAutoAdder> auto_adder;
  std::unique_ptr<discovery::DiscoveryHub::Subscription> following;
  std::unique_ptr<DiscoverySources> discovery_sources;

  // Outlives the services and the HTTP edge that count in it.
  metrics::Metrics metrics;
  std::unique_ptr<engine::RequestJournal> journal;
  // The API's services; they must outlive `server`.
  std::vector<std::unique_ptr<grpc::Service>> services;
  api::AdminService* admin_service = nullptr;    // in `services`
  api::EventService* event_service = nullptr;    // in `services`
  api::DeviceService* device_service = nullptr;  // in `services`, if real terminals
  std::unique_ptr<api::ApiServer> server;
  std::unique_ptr<HttpEdge> http_edge;  // null unless http.listen is set

  // Runs the parts' stops; last member, so it runs before any part above is
  // destroyed.
  ShutdownStack stops;
};

}  // namespace posd
