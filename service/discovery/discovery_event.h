// What discovery tells posd: a terminal announced itself at an address, its
// announcement changed, or it vanished. Every source of announcements —
// the UDP beacon (beacon_listener.h) now, Avahi's DNS-SD browser next —
// reports through DiscoverySink, so whatever follows a terminal (the device
// driver re-pointing its WebSocket transport) does not care how it was found.
//
// Plain values; thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace posd::discovery {

enum class DiscoverySource : uint8_t {
  kDnsSd,   // an Avahi browse result (_posterm._tcp)
  kBeacon,  // a UDP beacon
};
std::string_view DiscoverySourceName(DiscoverySource source);

// One terminal's announcement as last seen.
struct Announcement {
  std::string terminal_id;    // the id it advertises (DeviceRecord binds to it)
  std::string instance_name;  // DNS-SD instance name; empty for beacons
  std::string address;        // IP address it is reachable at (v4 or v6)
  uint16_t port = 0;          // its WebSocket server's TCP port
  std::string path = "/";     // its WebSocket endpoint's HTTP path
  bool tls = false;           // wss://
  uint32_t protocol_version = 0;
  DiscoverySource source = DiscoverySource::kBeacon;
  std::chrono::steady_clock::time_point observed_at{};

  // Same place and protocol (observed_at and instance_name aside).
  bool SameTarget(const Announcement& other) const {
    return terminal_id == other.terminal_id && address == other.address && port == other.port &&
           path == other.path && tls == other.tls && protocol_version == other.protocol_version;
  }
};

enum class DiscoveryEventType : uint8_t {
  kAppeared,  // first announcement of this id (from this source)
  kUpdated,   // a known id announced a new address, port, path or version
  kVanished,  // withdrawn, or not heard of within its expiry time
};
std::string_view DiscoveryEventTypeName(DiscoveryEventType type);

struct DiscoveryEvent {
  DiscoveryEventType type = DiscoveryEventType::kAppeared;
  Announcement announcement;  // for kVanished: the last one seen
};

// Receives discovery events. Called on the discovery source's event loop
// thread (posd's io_context); must not block.
class DiscoverySink {
 public:
  virtual ~DiscoverySink() = default;
  virtual void OnDiscoveryEvent(const DiscoveryEvent& event) = 0;
};

}  // namespace posd::discovery
