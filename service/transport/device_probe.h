// Tells what kind of device a serial port path names, without opening it, so
// that SerialPort can pick the right way to open it and fail with a clear
// message. Internal to posd_transport. Thread-safe (no shared state).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

namespace posd::transport {

enum class DeviceKind {
  // The slave side of a Unix98 pseudo-terminal (/dev/pts/N, or a symlink to
  // one such as those socat creates). Opened with plain termios.
  kPseudoTerminal,
  // Any other character device; it may be a serial port. Opened through
  // libserialport, which makes the final call.
  kCharacterDevice,
};

// Follows symlinks. Errors:
//   NOT_FOUND         "serial port <path> does not exist"
//   PERMISSION_DENIED "no permission to open <path> (is the posd user in the dialout group?)"
//   INVALID_ARGUMENT  "<path> is not a serial port (<what it is>)"
absl::StatusOr<DeviceKind> ProbeDevice(std::string_view path);

// The PERMISSION_DENIED status above, shared with the code that opens ports.
absl::Status NoPermissionError(std::string_view path);

}  // namespace posd::transport
