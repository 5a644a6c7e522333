#include "service/link/frame.h"

#include "service/link/crc32c.h"

namespace posd::link {
namespace {

void PutLe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void PutLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t GetLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t GetLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

bool KnownType(uint8_t type) { return type >= 1 && type <= 5; }

}  // namespace

std::string_view FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kData: return "DATA";
    case FrameType::kAck: return "ACK";
    case FrameType::kNak: return "NAK";
    case FrameType::kHello: return "HELLO";
    case FrameType::kHelloAck: return "HELLO_ACK";
  }
  return "UNKNOWN";
}

absl::Status AppendEncodedFrame(const FrameHeader& header, std::span<const uint8_t> payload,
                                std::vector<uint8_t>& out) {
  if (payload.size() > kMaxFramePayloadLimit) {
    return absl::InvalidArgumentError("frame payload above kMaxFramePayloadLimit");
  }
  // The raw frame is assembled on the stack: at most 530 bytes.
  uint8_t raw[kMaxRawFrameSize];
  raw[0] = static_cast<uint8_t>(kProtocolVersion << 4 | static_cast<uint8_t>(header.type));
  raw[1] = header.flags;
  PutLe32(raw + 2, header.src_epoch);
  PutLe32(raw + 6, header.dst_epoch);
  raw[10] = header.seq;
  raw[11] = header.ack;
  PutLe16(raw + 12, static_cast<uint16_t>(payload.size()));
  if (!payload.empty()) std::copy(payload.begin(), payload.end(), raw + kHeaderSize);
  const size_t body = kHeaderSize + payload.size();
  PutLe32(raw + body, Crc32c(std::span<const uint8_t>(raw, body)));
  CobsEncode(std::span<const uint8_t>(raw, body + kCrcSize), out);
  out.push_back(kDelimiter);
  return absl::OkStatus();
}

absl::StatusOr<Frame> ParseRawFrame(std::span<const uint8_t> raw) {
  if (raw.size() < kHeaderSize + kCrcSize) return absl::InvalidArgumentError("frame too short");
  const size_t body = raw.size() - kCrcSize;
  // CRC first: on a noisy line most malformed frames are corrupt ones, and
  // they should be counted as such.
  if (Crc32c(raw.first(body)) != GetLe32(raw.data() + body)) {
    return absl::DataLossError("frame CRC mismatch");
  }
  const uint8_t version = raw[0] >> 4;
  const uint8_t type = raw[0] & 0x0F;
  if (version != kProtocolVersion) return absl::InvalidArgumentError("unknown protocol version");
  if (!KnownType(type)) return absl::InvalidArgumentError("unknown frame type");
  const size_t length = GetLe16(raw.data() + 12);
  if (length != body - kHeaderSize) return absl::InvalidArgumentError("length field mismatch");
  if (length > kMaxFramePayloadLimit) return absl::InvalidArgumentError("payload too long");
  Frame frame;
  frame.header.type = static_cast<FrameType>(type);
  frame.header.flags = raw[1];
  frame.header.src_epoch = GetLe32(raw.data() + 2);
  frame.header.dst_epoch = GetLe32(raw.data() + 6);
  frame.header.seq = raw[10];
  frame.header.ack = raw[11];
  frame.payload.assign(raw.begin() + kHeaderSize, raw.begin() + static_cast<ptrdiff_t>(body));
  return frame;
}

std::vector<uint8_t> EncodeHelloParams(const HelloParams& params) {
  std::vector<uint8_t> out(kHelloPayloadSize, 0);
  out[0] = params.window;
  PutLe16(out.data() + 2, params.max_frame_payload);
  PutLe32(out.data() + 4, params.max_message_size);
  return out;
}

absl::StatusOr<HelloParams> DecodeHelloParams(std::span<const uint8_t> payload) {
  // Longer payloads are accepted so that later versions can append fields.
  if (payload.size() < kHelloPayloadSize) return absl::InvalidArgumentError("HELLO too short");
  HelloParams params;
  params.window = payload[0];
  params.max_frame_payload = GetLe16(payload.data() + 2);
  params.max_message_size = GetLe32(payload.data() + 4);
  if (params.window == 0 || params.max_frame_payload == 0 || params.max_message_size == 0) {
    return absl::InvalidArgumentError("HELLO parameters must be non-zero");
  }
  return params;
}

void FrameDecoder::Feed(std::span<const uint8_t> bytes, std::vector<Result>& results) {
  for (uint8_t byte : bytes) {
    if (byte != kDelimiter) {
      if (overflow_) continue;
      if (block_.size() == kMaxEncodedFrameSize) {
        // No valid frame is this long: drop what we have and skip to the next
        // delimiter, so memory stays bounded whatever the line carries.
        overflow_ = true;
        block_.clear();
        continue;
      }
      block_.push_back(byte);
      continue;
    }
    if (overflow_) {
      overflow_ = false;
      results.emplace_back(absl::OutOfRangeError("block longer than any frame"));
      continue;
    }
    if (block_.empty()) continue;
    if (absl::Status s = CobsDecode(block_, raw_); !s.ok()) {
      results.emplace_back(std::move(s));
    } else {
      results.emplace_back(ParseRawFrame(raw_));
    }
    block_.clear();
  }
}

void FrameDecoder::Reset() {
  block_.clear();
  overflow_ = false;
}

}  // namespace posd::link
