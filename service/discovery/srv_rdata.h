// The RDATA of a DNS SRV record (RFC 2782) as Avahi's record browser hands
// it over: priority, weight, port (16-bit, network order), then the target
// host as an uncompressed DNS name. The DNS-SD browser reads it to see a
// terminal's new port and host the moment the new SRV arrives.
//
// Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace posd::discovery {

struct SrvTarget {
  std::string host;  // "posterm-counter-1-10-0-0-7.local" (no trailing dot)
  uint16_t port = 0;
};

// INVALID_ARGUMENT when the data is short, a label runs past the end, or a
// label is a compression pointer (not allowed here).
absl::StatusOr<SrvTarget> ParseSrvRdata(const void* rdata, size_t size);

}  // namespace posd::discovery
