#include "service/devices/tracing_byte_stream.h"

#include <functional>
#include <string>
#include <string_view>

#include "google/protobuf/util/time_util.h"
#include "service/common/strings.h"

namespace posd::devices {
namespace {

using google::protobuf::util::TimeUtil;

}  // namespace

TracingByteStream::TracingByteStream(std::unique_ptr<transport::ByteStream> inner, TraceSink sink)
    : inner_(std::move(inner)), sink_(std::move(sink)) {}

TracingByteStream::~TracingByteStream() { inner_->Close(); }

void TracingByteStream::Start(transport::ByteStreamHandlers handlers) {
  transport::ByteStreamHandlers wrapped;
  wrapped.on_closed = std::move(handlers.on_closed);
  wrapped.on_data = [this, on_data = std::move(handlers.on_data)](
                        std::span<const std::uint8_t> bytes) {
    Decode(bytes, /*inbound=*/true);
    on_data(bytes);
  };
  inner_->Start(std::move(wrapped));
}

absl::Status TracingByteStream::Write(std::vector<std::uint8_t> bytes,
                                      transport::WriteCallback done) {
  // Decoded before handing over, so a frame the stream refuses is not shown
  // as sent.
  std::vector<std::uint8_t> copy = bytes;
  absl::Status written = inner_->Write(std::move(bytes), std::move(done));
  if (written.ok()) Decode(copy, /*inbound=*/false);
  return written;
}

void TracingByteStream::Close() { inner_->Close(); }

void TracingByteStream::Decode(std::span<const uint8_t> bytes, bool inbound) {
  std::vector<link::FrameDecoder::Result> results;
  (inbound ? in_decoder_ : out_decoder_).Feed(bytes, results);
  const auto now = std::chrono::steady_clock::now();
  for (auto& result : results) {
    posd::v1::TraceEntry entry;
    entry.set_kind(posd::v1::TRACE_KIND_FRAME);
    entry.set_direction(inbound ? posd::v1::TRACE_DIRECTION_INBOUND
                                : posd::v1::TRACE_DIRECTION_OUTBOUND);
    if (!result.ok()) {
      entry.set_type("BAD_FRAME");
      entry.set_error(result.status().code() == absl::StatusCode::kDataLoss
                          ? StrCat("crc mismatch (", result.status().message(), ")")
                          : StrCat("framing error (", result.status().message(), ")"));
      entry.set_summary(inbound ? "undecodable bytes from the terminal; the receiver resynchronised"
                                : "undecodable bytes sent");
      sink_(std::move(entry));
      continue;
    }
    const link::Frame& frame = *result;
    const auto& h = frame.header;
    entry.set_type(std::string(link::FrameTypeName(h.type)));
    entry.set_payload(std::string(frame.payload.begin(), frame.payload.end()));
    entry.set_frame_sequence(h.type == link::FrameType::kData ? h.seq : h.ack);
    entry.set_session_epoch(h.src_epoch);
    entry.set_size_bytes(static_cast<uint32_t>(link::WireFrameSize(frame.payload.size())));
    std::string summary = StrCat(link::FrameTypeName(h.type), " src_epoch=", h.src_epoch,
                                 " dst_epoch=", h.dst_epoch);
    if (h.type == link::FrameType::kData) {
      summary += StrCat(" seq=", h.seq, " ack=", h.ack, " payload=", frame.payload.size(),
                        (h.flags & link::kFlagMore) != 0 ? " MORE" : "");
      if (!inbound) {
        if (session_ != std::pair{h.src_epoch, h.dst_epoch}) {
          session_ = {h.src_epoch, h.dst_epoch};
          sent_.clear();  // frames of an ended session are never sent again
        }
        Sent& sent = sent_[h.seq];
        const size_t payload_hash = std::hash<std::string_view>{}(std::string_view(
            reinterpret_cast<const char*>(frame.payload.data()), frame.payload.size()));
        if (sent.flags != h.flags || sent.payload_hash != payload_hash) {
          sent = Sent{.times = 0, .flags = h.flags, .payload_hash = payload_hash};
        }
        entry.set_retries(sent.times);
        if (sent.times > 0) summary += StrCat(" (retransmission ", sent.times, ")");
        ++sent.times;
        sent.at = now;
      }
    } else if (h.type == link::FrameType::kAck || h.type == link::FrameType::kNak) {
      summary += StrCat(" ack=", h.ack);
      if (inbound) {
        const auto it = session_ == std::pair{h.dst_epoch, h.src_epoch}
                            ? sent_.find(static_cast<uint8_t>(h.ack - 1))
                            : sent_.end();
        if (it != sent_.end() && it->second.times > 0) {
          *entry.mutable_latency() = TimeUtil::NanosecondsToDuration(
              std::chrono::duration_cast<std::chrono::nanoseconds>(now - it->second.at).count());
        }
      }
      if (h.type == link::FrameType::kNak) {
        entry.set_error(StrCat("frame ", h.ack, " missing or corrupt"));
      }
    }
    entry.set_summary(std::move(summary));
    sink_(std::move(entry));
  }
}

}  // namespace posd::devices
