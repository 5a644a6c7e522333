// A serial port opened and configured for the terminal link, as a ByteStream.
//
// Real ports (USB adapters, on-board UARTs) are opened and configured through
// libserialport. Pseudo-terminals, which libserialport refuses (their slaves
// reject modem-line ioctls), are opened with open(2) and configured with the
// same settings through termios; that is how tests, the terminal simulator and
// socat-bridged devices connect. Either way the descriptor is then driven by
// the caller's Boost.Asio io_context.
//
// Exclusive use: Open() takes a non-blocking flock(2) on the device and sets
// TIOCEXCL, so a second posd (or a second Open in this process) is refused
// with FAILED_PRECONDITION instead of silently sharing the line. TIOCEXCL does
// not stop root; the flock does, for every program that also takes it.
//
// Threading, lifetime and callbacks: see byte_stream.h. The io_context must
// outlive the SerialPort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/transport/byte_stream.h"
#include "service/transport/serial_settings.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::transport {

class FdStream;

class SerialPort final : public ByteStream {
 public:
  // Opens and configures `settings.port`. Errors:
  //   INVALID_ARGUMENT  bad settings (nothing is opened), or the path is not a
  //                     serial port ("/dev/null is not a serial port (...)")
  //   NOT_FOUND         "serial port /dev/ttyX does not exist"
  //   PERMISSION_DENIED "no permission to open /dev/ttyX (is the posd user in
  //                     the dialout group?)"
  //   FAILED_PRECONDITION the port is in use (locked by another opener)
  //   UNIMPLEMENTED     settings the device cannot do (DTR/DSR flow control on
  //                     a pseudo-terminal)
  //   UNAVAILABLE       the device failed while opening (e.g. EIO)
  static absl::StatusOr<std::unique_ptr<SerialPort>> Open(boost::asio::io_context& io,
                                                          const SerialSettings& settings);

  ~SerialPort() override;  // Close()s the port.
  SerialPort(const SerialPort&) = delete;
  SerialPort& operator=(const SerialPort&) = delete;

  const SerialSettings& settings() const { return settings_; }
  // True when opened through the termios path (a pseudo-terminal).
  bool is_pseudo_terminal() const { return is_pseudo_terminal_; }

  // ByteStream. Errors after opening are UNAVAILABLE, e.g.
  // "serial port /dev/ttyUSB0 disconnected (EIO)".
  void Start(ByteStreamHandlers handlers) override;
  absl::Status Write(std::vector<std::uint8_t> bytes, WriteCallback done = {}) override;
  void Close() override;
  bool is_open() const override;
  std::size_t queued_bytes() const override;
  std::string_view description() const override;

 private:
  SerialPort(SerialSettings settings, bool is_pseudo_terminal, std::unique_ptr<FdStream> stream);

  SerialSettings settings_;
  bool is_pseudo_terminal_;
  std::unique_ptr<FdStream> stream_;
};

}  // namespace posd::transport
