// Validation and defaults of the `http:` section (the HTTP edge for browsers).
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "posd/config/v1/config.pb.h"

namespace posd::config {

// Host header values accepted when http.allowed_hosts is not given.
inline constexpr std::string_view kDefaultHttpAllowedHosts[] = {"localhost", "127.0.0.1",
                                                                "[::1]"};

// True for a numeric IPv4 address in 127.0.0.0/8 or the IPv6 "::1".
bool IsLoopbackAddress(std::string_view ip);

// Fills in the defaults of `config.http` (TLS files from server.tcp when it
// is set) and checks them; INVALID_ARGUMENT naming the key ("http.listen:
// ...") on the first problem: a listen address that is not IP:PORT, an
// address beyond loopback without TLS, "*" or a malformed origin, a bad
// host name, limits out of range.
absl::Status ValidateHttp(v1::Config& config);

}  // namespace posd::config
