// An open, bidirectional stream of bytes driven by a Boost.Asio io_context: the
// seam between the terminal link (service/link), which frames and retransmits,
// and whatever carries its bytes (a serial port today).
//
// The stream knows bytes only. It does not frame, retry or reorder; a chunk
// delivered to OnData is whatever the operating system handed over in one read
// and has no relation to the chunks the peer wrote.
//
// Threading: a ByteStream is confined to the single thread that runs its
// io_context. Every member function must be called on that thread (or before
// the io_context runs), and every callback runs on it. Nothing here is
// internally locked.
//
// Callbacks never run inside Start(), Write() or Close(); they run later from
// the io_context. Once Close() has returned, or the stream has been destroyed,
// no callback of the stream runs again, even if operations were in flight.
// Callbacks may call Close(), Write() or destroy the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace posd::transport {

// Called with each chunk of received bytes. The span is valid only during the
// call; copy what must outlive it.
using DataCallback = std::function<void(std::span<const std::uint8_t> bytes)>;

// Called once when the stream ends by itself (peer gone, device unplugged, I/O
// error), never after Close(). The status is not OK, e.g. UNAVAILABLE
// "serial port /dev/ttyUSB0 disconnected (EIO)". The stream is closed when
// this runs; Write() fails from then on.
using ClosedCallback = std::function<void(const absl::Status& status)>;

// Called when one Write() has been handed to the operating system in full (OK)
// or has failed because the stream failed (the same status ClosedCallback
// gets). OK means the kernel took the bytes, not that they left the wire.
using WriteCallback = std::function<void(const absl::Status& status)>;

struct ByteStreamHandlers {
  DataCallback on_data;
  ClosedCallback on_closed;
};

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Installs the handlers and starts the read loop. Call at most once. If the
  // stream already failed (a write failed before Start), on_closed runs soon
  // after from the io_context. The handlers are owned by the stream and
  // released when it is closed.
  virtual void Start(ByteStreamHandlers handlers) = 0;

  // Queues `bytes` for sending. Writes go out whole and in the order queued;
  // one write is in flight at a time, the rest wait in an internal queue.
  // `done` (may be empty) runs once the bytes are handed to the kernel or the
  // stream fails. Returns FAILED_PRECONDITION, without calling `done`, when
  // the stream is already closed or failed. Allowed before Start().
  virtual absl::Status Write(std::vector<std::uint8_t> bytes, WriteCallback done = {}) = 0;

  // Closes the stream now: stops reading, discards queued writes without
  // calling their callbacks and releases the device. Idempotent. After it
  // returns no callback of this stream runs again.
  virtual void Close() = 0;

  // False after Close() or after the stream failed.
  virtual bool is_open() const = 0;

  // Bytes queued or in flight, not yet handed to the kernel (for back-pressure).
  virtual std::size_t queued_bytes() const = 0;

  // A human-readable name of the peer for logs and traces, e.g.
  // "serial port /dev/ttyUSB0".
  virtual std::string_view description() const = 0;
};

}  // namespace posd::transport
