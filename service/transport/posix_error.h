// errno values as text and as absl::Status. Internal to posd_transport.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posd::transport {

// The symbolic name of an errno value ("EIO", "ENOENT"), or "errno N".
std::string ErrnoName(int error_number);

// "<what>: <strerror> (<ENAME>)" with the code chosen by errno: NOT_FOUND,
// PERMISSION_DENIED, FAILED_PRECONDITION (EBUSY), UNAVAILABLE otherwise.
absl::Status ErrnoToStatus(int error_number, std::string_view what);

}  // namespace posd::transport
