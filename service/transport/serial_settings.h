// How to open and configure one serial port: device path, baud rate and
// character framing. A plain value; Validate() checks it without touching the
// device.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posd::transport {

enum class Parity { kNone, kOdd, kEven, kMark, kSpace };
enum class StopBits { kOne, kTwo };
enum class FlowControl { kNone, kXonXoff, kRtsCts, kDtrDsr };

struct SerialSettings {
  // Absolute device path, e.g. "/dev/ttyUSB0", "/dev/serial/by-id/..." or a
  // pseudo-terminal such as "/dev/pts/3" (symlinks are followed).
  std::string port;
  // Bits per second; one of the standard termios rates (see IsStandardBaudRate).
  int baud = 115200;
  // Bits per character, 5 to 8.
  int data_bits = 8;
  Parity parity = Parity::kNone;
  StopBits stop_bits = StopBits::kOne;
  FlowControl flow_control = FlowControl::kNone;

  // OK, or INVALID_ARGUMENT naming the first bad field and its value, e.g.
  // "baud 12345 is not a standard termios rate (one of 50, 75, ...)".
  absl::Status Validate() const;
};

// True for the rates Linux termios can set (B50 ... B4000000).
bool IsStandardBaudRate(int baud);

// Lowercase names used in configuration and messages: "none", "odd", "even",
// "mark", "space"; "1", "2"; "none", "xonxoff", "rtscts", "dtrdsr".
std::string_view ParityName(Parity parity);
std::string_view StopBitsName(StopBits stop_bits);
std::string_view FlowControlName(FlowControl flow_control);

// Inverse of the *Name functions; INVALID_ARGUMENT listing the accepted names.
absl::StatusOr<Parity> ParseParity(std::string_view name);
absl::StatusOr<StopBits> ParseStopBits(std::string_view name);
absl::StatusOr<FlowControl> ParseFlowControl(std::string_view name);

}  // namespace posd::transport
