#include "service/discovery/srv_rdata.h"

namespace posd::discovery {

absl::StatusOr<SrvTarget> ParseSrvRdata(const void* rdata, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(rdata);
  if (bytes == nullptr || size < 7) return absl::InvalidArgumentError("SRV: shorter than 7 bytes");
  SrvTarget target;
  target.port = static_cast<uint16_t>((bytes[4] << 8) | bytes[5]);
  size_t at = 6;
  while (true) {
    if (at >= size) return absl::InvalidArgumentError("SRV: target runs past the end");
    const uint8_t length = bytes[at++];
    if (length == 0) break;
    if (length > 63) return absl::InvalidArgumentError("SRV: compressed or bad label");
    if (at + length > size) return absl::InvalidArgumentError("SRV: label runs past the end");
    if (!target.host.empty()) target.host += '.';
    target.host.append(reinterpret_cast<const char*>(bytes + at), length);
    at += length;
  }
  if (target.host.empty()) return absl::InvalidArgumentError("SRV: empty target");
  return target;
}

}  // namespace posd::discovery
