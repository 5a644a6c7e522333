// posd's discovery sources, all feeding one DiscoveryHub (the `discovery:`
// section of the configuration): Avahi's DNS-SD browser (discovery.dns_sd)
// and the UDP beacon listener (discovery.beacon_listen). The sources run on
// the devices' io thread, where the links they steer live.
//
// A source that cannot start (a beacon port that cannot be bound) does not
// stop posd: terminals with a fixed address still take payments. It is
// logged as an error and reported through the hub (SourceProblems, shown by
// `posctl devices discover`).
//
// Threading: Start and Stop from the main thread. Lifetime: the manager and
// the hub must outlive the sources; Stop (or the destructor) before the
// manager stops.
#pragma once

#include <memory>

#include "posd/config/v1/config.pb.h"
#include "service/devices/device_manager.h"
#include "service/discovery/avahi_browser.h"
#include "service/discovery/beacon_listener.h"
#include "service/discovery/discovery_hub.h"

namespace posd {

class DiscoverySources {
 public:
  // Starts every configured source; never fails (see the file comment).
  static std::unique_ptr<DiscoverySources> Start(const config::v1::Discovery& config,
                                                 devices::DeviceManager& manager,
                                                 discovery::DiscoveryHub& hub);
  ~DiscoverySources();
  DiscoverySources(const DiscoverySources&) = delete;
  DiscoverySources& operator=(const DiscoverySources&) = delete;

  // Stops every source on the io thread. Idempotent.
  void Stop();

 private:
  DiscoverySources(devices::DeviceManager& manager) : manager_(manager) {}
  devices::DeviceManager& manager_;
  std::unique_ptr<discovery::BeaconListener> beacon_;  // io thread
  std::unique_ptr<discovery::AvahiBrowser> dns_sd_;    // io thread
};

}  // namespace posd
