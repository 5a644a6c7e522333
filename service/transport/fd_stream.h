// A ByteStream over an open file descriptor, driven by a Boost.Asio
// io_context (posix::stream_descriptor). SerialPort uses it for both its
// libserialport and its termios paths. Internal to posd_transport.
//
// Ownership: the OpenDevice owns the descriptor and closes it (close() or
// sp_close()); Asio only borrows it and lets go (release()) before the device
// is closed, so the descriptor is closed exactly once and never while Asio
// still polls it. Threading and callback guarantees: see byte_stream.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/transport/byte_stream.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::transport {

// An open device. Destroying it closes the descriptor.
class OpenDevice {
 public:
  virtual ~OpenDevice() = default;
  // A non-blocking descriptor, valid until destruction.
  virtual int fd() const = 0;
};

class FdStream final : public ByteStream {
 public:
  // `description` prefixes error messages ("serial port /dev/ttyUSB0").
  // `io` must outlive the stream. Fails (UNAVAILABLE) only when Asio cannot
  // register the descriptor; `device` is closed then.
  static absl::StatusOr<std::unique_ptr<FdStream>> Create(boost::asio::io_context& io,
                                                          std::string description,
                                                          std::unique_ptr<OpenDevice> device);
  ~FdStream() override;  // Close()s the stream.
  FdStream(const FdStream&) = delete;
  FdStream& operator=(const FdStream&) = delete;

  void Start(ByteStreamHandlers handlers) override;
  absl::Status Write(std::vector<std::uint8_t> bytes, WriteCallback done = {}) override;
  void Close() override;
  bool is_open() const override;
  std::size_t queued_bytes() const override;
  std::string_view description() const override;

 private:
  class Core;
  explicit FdStream(std::shared_ptr<Core> core);
  // Shared with the completion handlers in flight, which keep it (and the
  // buffers Asio points into) alive until they have run.
  std::shared_ptr<Core> core_;
};

}  // namespace posd::transport
