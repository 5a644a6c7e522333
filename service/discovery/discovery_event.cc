#include "service/discovery/discovery_event.h"

namespace posd::discovery {

std::string_view DiscoverySourceName(DiscoverySource source) {
  switch (source) {
    case DiscoverySource::kDnsSd: return "dns-sd";
    case DiscoverySource::kBeacon: return "beacon";
  }
  return "unknown";
}

std::string_view DiscoveryEventTypeName(DiscoveryEventType type) {
  switch (type) {
    case DiscoveryEventType::kAppeared: return "appeared";
    case DiscoveryEventType::kUpdated: return "updated";
    case DiscoveryEventType::kVanished: return "vanished";
  }
  return "unknown";
}

}  // namespace posd::discovery
