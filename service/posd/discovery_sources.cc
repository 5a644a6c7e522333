#include "service/posd/discovery_sources.h"

#include "service/common/strings.h"
#include "service/websocket/websocket_options.h"
#include "spdlog/spdlog.h"

namespace posd {

std::unique_ptr<DiscoverySources> DiscoverySources::Start(const config::v1::Discovery& config,
                                                          devices::DeviceManager& manager,
                                                          discovery::DiscoveryHub& hub) {
  std::unique_ptr<DiscoverySources> sources(new DiscoverySources(manager));
  if (!config.beacon_listen().empty()) {
    absl::Status started = [&]() -> absl::Status {
      auto address = websocket::ParseHostPort(config.beacon_listen());
      if (!address.ok()) return address.status();
      return manager.RunOnIoThread([&](boost::asio::io_context& io) -> absl::Status {
        auto listener = discovery::BeaconListener::Create(
            io,
            {.address = address->host,
             .port = address->port,
             .expiry_intervals = config.beacon_expiry_intervals()},
            hub);
        if (!listener.ok()) return listener.status();
        sources->beacon_ = *std::move(listener);
        sources->beacon_->Start();
        return absl::OkStatus();
      });
    }();
    if (started.ok()) {
      spdlog::info("listening for terminal beacons on UDP {}", config.beacon_listen());
    } else {
      // Loud, but posd runs on: terminals with a fixed address (and DNS-SD)
      // still work, and payments must not stop for a beacon port.
      spdlog::error(
          "NO BEACON DISCOVERY: {}; terminals that announce themselves by beacon will not be "
          "followed until this is fixed (discovery.beacon_listen) and posd restarted",
          ToStd(started.message()));
      hub.SetSourceProblem(discovery::DiscoverySource::kBeacon, std::string(started.message()));
    }
  }
  if (config.dns_sd()) {
    // Never fails for a missing avahi-daemon: the browser waits for it (it
    // may start after posd) and reports VANISHED while it is gone.
    absl::Status started = manager.RunOnIoThread([&](boost::asio::io_context& io) -> absl::Status {
      auto browser = discovery::AvahiBrowser::Create(io, hub);
      if (!browser.ok()) return browser.status();
      sources->dns_sd_ = *std::move(browser);
      return absl::OkStatus();
    });
    if (started.ok()) {
      spdlog::info("browsing DNS-SD for {}{}", discovery::kPostermServiceType,
                   sources->dns_sd_->daemon_running() ? "" : " (waiting for avahi-daemon)");
    } else {
      spdlog::error("NO DNS-SD DISCOVERY: {}", ToStd(started.message()));
      hub.SetSourceProblem(discovery::DiscoverySource::kDnsSd, std::string(started.message()));
    }
  }
  return sources;
}

DiscoverySources::~DiscoverySources() { Stop(); }

void DiscoverySources::Stop() {
  if (!beacon_ && !dns_sd_) return;
  // The listener lives on the io thread; after the manager stopped, that
  // thread is gone and the listener's socket is simply closed here.
  absl::Status stopped = manager_.RunOnIoThread([this](boost::asio::io_context&) {
    beacon_.reset();
    dns_sd_.reset();
    return absl::OkStatus();
  });
  if (!stopped.ok()) {
    beacon_.reset();
    dns_sd_.reset();
  }
}

}  // namespace posd
