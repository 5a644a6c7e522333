#include "service/discovery/beacon.h"

#include <set>

#include "absl/strings/numbers.h"
#include "service/common/strings.h"

namespace posd::discovery {
namespace {

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 63 || id[0] < 'a' || id[0] > 'z') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("beacon: ", what));
}

}  // namespace

std::string EncodeBeacon(const Beacon& beacon) {
  return StrCat(kBeaconMagic, " id=", beacon.terminal_id, " port=", beacon.port,
                " proto=", beacon.protocol_version, " path=", beacon.path,
                " tls=", beacon.tls ? 1 : 0, " seq=", beacon.sequence,
                " interval_ms=", beacon.interval_ms);
}

absl::StatusOr<Beacon> ParseBeacon(std::span<const uint8_t> datagram) {
  if (datagram.size() > kMaxBeaconSize) return Bad("longer than 512 bytes");
  const std::string_view text(reinterpret_cast<const char*>(datagram.data()), datagram.size());
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return Bad("not printable ASCII");
  }
  Beacon beacon;
  std::set<std::string_view> seen;
  bool first = true;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view token = text.substr(start, end - start);
    start = end + 1;
    if (first) {
      if (token != kBeaconMagic) return Bad(StrCat("does not start with ", kBeaconMagic));
      first = false;
      continue;
    }
    if (token.empty()) return Bad("empty field (two spaces)");
    const size_t eq = token.find('=');
    if (eq == std::string_view::npos || eq == 0) return Bad(StrCat("'", token, "' is not key=value"));
    const std::string_view key = token.substr(0, eq);
    const std::string_view value = token.substr(eq + 1);
    if (!seen.insert(key).second) return Bad(StrCat("key '", key, "' repeated"));
    uint32_t number = 0;
    if (key == "id") {
      if (!ValidId(value)) return Bad(StrCat("id '", value, "' is not a terminal id"));
      beacon.terminal_id = std::string(value);
    } else if (key == "port") {
      if (!absl::SimpleAtoi(ToAbsl(value), &number) || number == 0 || number > 65535) {
        return Bad("port must be 1 to 65535");
      }
      beacon.port = static_cast<uint16_t>(number);
    } else if (key == "proto") {
      if (!absl::SimpleAtoi(ToAbsl(value), &number) || number == 0) return Bad("proto must be >= 1");
      beacon.protocol_version = number;
    } else if (key == "path") {
      if (value.empty() || value[0] != '/') return Bad("path must start with '/'");
      beacon.path = std::string(value);
    } else if (key == "tls") {
      if (value != "0" && value != "1") return Bad("tls must be 0 or 1");
      beacon.tls = value == "1";
    } else if (key == "seq") {
      if (!absl::SimpleAtoi(ToAbsl(value), &number)) return Bad("seq must be a number");
      beacon.sequence = number;
    } else if (key == "interval_ms") {
      if (!absl::SimpleAtoi(ToAbsl(value), &number) || number == 0 || number > 600000) {
        return Bad("interval_ms must be 1 to 600000");
      }
      beacon.interval_ms = number;
    }
    // Other keys: from a newer sender; ignored.
  }
  if (first) return Bad("empty");
  if (beacon.terminal_id.empty()) return Bad("id is missing");
  if (beacon.port == 0) return Bad("port is missing");
  if (beacon.protocol_version == 0) return Bad("proto is missing");
  return beacon;
}

}  // namespace posd::discovery
