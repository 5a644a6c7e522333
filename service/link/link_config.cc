#include "service/link/link_config.h"

#include <algorithm>
#include <string>

#include "service/link/frame.h"

namespace posd::link {

absl::Status ValidateLinkConfig(const LinkConfig& c) {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError("link config: " + what);
  };
  if (c.baud < 300 || c.baud > 4'000'000) return bad("baud must be 300 .. 4000000");
  if (c.bits_per_byte < 9 || c.bits_per_byte > 12) return bad("bits_per_byte must be 9 .. 12");
  if (c.window < 1 || c.window > kMaxWindowLimit) return bad("window must be 1 .. 127");
  if (c.max_frame_payload < kMinFramePayload || c.max_frame_payload > kMaxFramePayloadLimit) {
    return bad("max_frame_payload must be 16 .. 512");
  }
  if (c.max_message_size < 1 || c.max_message_size > kMaxMessageSizeLimit) {
    return bad("max_message_size must be 1 .. 65536");
  }
  if (c.send_queue_limit < 1 || c.send_queue_limit > 4096) {
    return bad("send_queue_limit must be 1 .. 4096");
  }
  if (c.turnaround < Duration::zero() || c.turnaround > std::chrono::seconds(10)) {
    return bad("turnaround must be 0 .. 10 s");
  }
  if (c.max_retries < 1 || c.max_retries > 100) return bad("max_retries must be 1 .. 100");
  if (c.hello_interval < std::chrono::milliseconds(1) ||
      c.hello_interval > std::chrono::seconds(60)) {
    return bad("hello_interval must be 1 ms .. 60 s");
  }
  return absl::OkStatus();
}

LinkTiming DeriveLinkTiming(const LinkConfig& c) {
  LinkTiming t;
  t.byte_time = Duration(int64_t{1'000'000'000} * c.bits_per_byte / c.baud);
  t.max_frame_time = t.byte_time * static_cast<int64_t>(WireFrameSize(c.max_frame_payload) + 1);
  t.control_frame_time = t.byte_time * static_cast<int64_t>(WireFrameSize(0) + 1);
  t.retransmit_timeout =
      c.turnaround + (static_cast<int64_t>(c.window) + 2) * t.max_frame_time +
      2 * t.control_frame_time;
  t.pacing_lead = t.max_frame_time;
  t.nak_holdoff = t.max_frame_time + t.control_frame_time;
  t.hello_interval = std::max<Duration>(c.hello_interval, t.retransmit_timeout);
  return t;
}

}  // namespace posd::link
