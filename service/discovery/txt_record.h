// What a terminal announces in the TXT record of its `_posterm._tcp` DNS-SD
// service (docs/protocol.md, "DNS-SD"): one "key=value" string per entry.
//
//   id=counter-1  proto=1  path=/  tls=0
//
// Keys are compared without regard to case (RFC 6763 6.4); the first of a
// repeated key counts and later ones are ignored (RFC 6763 6.4). Unknown keys
// are ignored so that newer terminals may add some.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace posd::discovery {

// The DNS-SD service type terminals publish and posd browses.
inline constexpr char kPostermServiceType[] = "_posterm._tcp";

struct TerminalTxt {
  std::string terminal_id;        // id=    required; a device id (a-z, 0-9, '-', 1..63)
  uint32_t protocol_version = 0;  // proto= required, >= 1
  std::string path = "/";         // path=  optional, starts with '/', printable, no spaces
  bool tls = false;               // tls=   optional, 0 or 1
};

// The entries in the order above. INVALID_ARGUMENT when a field would not
// parse back (a bad id, proto 0, a bad path), so nothing malformed is ever
// announced.
absl::StatusOr<std::vector<std::string>> FormatTerminalTxt(const TerminalTxt& txt);

// INVALID_ARGUMENT naming the problem: id or proto missing, or a known key
// with a bad value.
absl::StatusOr<TerminalTxt> ParseTerminalTxt(const std::vector<std::string>& entries);

}  // namespace posd::discovery
