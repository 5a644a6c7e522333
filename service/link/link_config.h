// Configuration of one link end, and the timers derived from it.
//
// Plain values; thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>

#include "absl/status/status.h"

namespace posd::link {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

// Hard limits: the frame fields and the receive buffers are sized by them.
inline constexpr uint32_t kMaxWindowLimit = 127;  // half the 8-bit sequence space
inline constexpr uint32_t kMinFramePayload = 16;
inline constexpr uint32_t kMaxMessageSizeLimit = 65536;

struct LinkConfig {
  // Line speed, used to pace output and to derive timers.
  uint32_t baud = 115200;
  // Bit times per byte on the line: 10 for 8N1, 11 for 8E1 or 8N2.
  uint32_t bits_per_byte = 10;
  // DATA frames sent and not yet acknowledged (1 .. kMaxWindowLimit). The
  // window in use is the smaller of the two ends' values (HELLO carries it).
  uint32_t window = 8;
  // Largest payload of one DATA frame (kMinFramePayload .. kMaxFramePayloadLimit).
  // Longer messages are split into fragments this size.
  uint32_t max_frame_payload = 256;
  // Largest message Send accepts and the receiver reassembles (1 .. 65536).
  uint32_t max_message_size = 4096;
  // Messages accepted by Send and not yet acknowledged or handed back.
  uint32_t send_queue_limit = 32;
  // Allowance for everything that is not line time in a round trip: USB
  // adapter latency timers (1 to 16 ms), scheduling, the peer's processing.
  Duration turnaround = std::chrono::milliseconds(20);
  // Retransmissions of one frame before the link is declared down.
  uint32_t max_retries = 10;
  // Period of HELLO while the link is not up (at least the retransmit timeout).
  Duration hello_interval = std::chrono::milliseconds(250);
};

// INVALID_ARGUMENT naming the first field out of range.
absl::Status ValidateLinkConfig(const LinkConfig& config);

// Timers derived from a valid configuration (docs/protocol.md, "Timers").
struct LinkTiming {
  Duration byte_time;           // one byte on the line
  Duration max_frame_time;      // one DATA frame of max_frame_payload
  Duration control_frame_time;  // one ACK or NAK
  // An ACK is overdue this long after the frame's last byte left (as this end
  // estimates it). Pacing keeps queues to about two frames, but a line slower
  // than its nominal baud (a stalled adapter, flow control) lets a whole
  // window queue up in the transport: the timeout covers a window of our
  // frames, two of the peer's ahead of its ACK, and the turnaround.
  Duration retransmit_timeout;
  // New DATA is released when the line will be free within this time, so the
  // transport never holds more than about two frames and ACKs, NAKs and
  // retransmissions are not stuck behind a whole window.
  Duration pacing_lead;
  // A NAK for the same missing frame is not repeated within this time.
  Duration nak_holdoff;
  Duration hello_interval;
};
LinkTiming DeriveLinkTiming(const LinkConfig& config);

}  // namespace posd::link
