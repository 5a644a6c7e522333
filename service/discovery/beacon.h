// The UDP beacon: the discovery fallback for networks that block multicast
// (docs/protocol.md, "UDP beacon"). A terminal sends one small datagram every
// interval to a configured address and port; its source address is the
// terminal's address. The payload is one line of ASCII:
//
//   POSTERM/1 id=counter-1 port=8080 proto=1 path=/ tls=0 seq=17 interval_ms=1000
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace posd::discovery {

// First token of every beacon: the format and its version.
inline constexpr std::string_view kBeaconMagic = "POSTERM/1";
// Longest datagram a listener accepts (and a sender may send).
inline constexpr size_t kMaxBeaconSize = 512;
// The UDP port posd listens on for beacons unless configured otherwise
// (config key discovery.beacon_listen, default 0.0.0.0:47800): unassigned by
// IANA, outside the ephemeral range, easy to open in a firewall.
inline constexpr uint16_t kDefaultBeaconPort = 47800;
// The beacon interval assumed when a beacon does not say.
inline constexpr uint32_t kDefaultBeaconIntervalMs = 1000;

struct Beacon {
  std::string terminal_id;        // id=  required; a device id (a-z, 0-9, '-')
  uint16_t port = 0;              // port= required, 1..65535: the WebSocket port
  uint32_t protocol_version = 0;  // proto= required, >= 1
  std::string path = "/";         // path= optional, starts with '/', no spaces
  bool tls = false;               // tls= optional, 0 or 1
  uint32_t sequence = 0;          // seq= optional; counts beacons since boot
  uint32_t interval_ms = kDefaultBeaconIntervalMs;  // interval_ms= optional, 1..600000
};

std::string EncodeBeacon(const Beacon& beacon);

// INVALID_ARGUMENT saying what is wrong: not a beacon (magic), too long, a
// token without '=', a repeated key, a missing or bad required field, a bad
// optional one. Unknown keys are ignored (newer senders may add some).
absl::StatusOr<Beacon> ParseBeacon(std::span<const uint8_t> datagram);

}  // namespace posd::discovery
