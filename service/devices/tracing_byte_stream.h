// A ByteStream decorator that reports every link frame crossing the stream
// (both directions) as a trace entry: type, sequence, epoch, size on the
// wire, retransmissions of outbound DATA frames, ACK round-trip latency, and
// decode errors of inbound bytes (CRC, framing: garbage on the line).
//
// It decodes its own copy of the bytes, so the link layer is untouched and
// tracing costs nothing to the protocol. Entries without a subscriber still
// go to the flight recorder.
//
// Threading and lifetime: as the wrapped stream (byte_stream.h): confined to
// the io_context thread. Owns the wrapped stream; the sink must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "service/devices/trace_sink.h"
#include "service/link/frame.h"
#include "service/transport/byte_stream.h"

namespace posd::devices {

class TracingByteStream final : public transport::ByteStream {
 public:
  TracingByteStream(std::unique_ptr<transport::ByteStream> inner, TraceSink sink);
  ~TracingByteStream() override;

  void Start(transport::ByteStreamHandlers handlers) override;
  absl::Status Write(std::vector<std::uint8_t> bytes, transport::WriteCallback done = {}) override;
  void Close() override;
  bool is_open() const override { return inner_->is_open(); }
  std::size_t queued_bytes() const override { return inner_->queued_bytes(); }
  std::string_view description() const override { return inner_->description(); }

 private:
  void Decode(std::span<const uint8_t> bytes, bool inbound);

  std::unique_ptr<transport::ByteStream> inner_;
  TraceSink sink_;
  link::FrameDecoder out_decoder_;
  link::FrameDecoder in_decoder_;
  // Outbound DATA frames of the current link session by seq. A frame counts
  // as a retransmission only if this session already sent the same seq with
  // the same flags and payload (only the ack field changes on a resend): a
  // new session (another epoch pair; after a peer restart only the
  // destination changes) or a seq number come round again is a new frame.
  struct Sent {
    uint32_t times = 0;
    uint8_t flags = 0;
    size_t payload_hash = 0;
    std::chrono::steady_clock::time_point at{};
  };
  std::pair<uint32_t, uint32_t> session_{};  // (src_epoch, dst_epoch)
  std::map<uint8_t, Sent> sent_;
};

}  // namespace posd::devices
