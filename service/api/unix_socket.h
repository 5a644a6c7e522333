// Preparing the path of posd's Unix domain socket before the server binds it.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace posd::api {

// Makes `path` ready for a new listening socket:
// - creates its folder (mode 0750) when missing;
// - removes a stale socket left by a crashed posd (nobody accepts on it);
// - refuses, with FAILED_PRECONDITION, a socket on which a running process
//   still accepts connections (a second posd must not steal the first one's
//   clients) and a path that exists but is not a socket (never deleted).
absl::Status PrepareUnixSocketPath(const std::string& path);

}  // namespace posd::api
