// Link frames: layout, encoding and a streaming decoder.
//
// On the wire a frame is COBS(header | payload | crc32c) followed by one 0x00
// delimiter (see docs/protocol.md, "Frame layout"):
//
//   offset  size  field
//   0       1     version (high nibble, 1) | type (low nibble)
//   1       1     flags (bit 0: MORE, another fragment of this message follows)
//   2       4     source epoch, little-endian (the sender's session epoch)
//   6       4     destination epoch, little-endian (the peer's epoch as the
//                 sender knows it; 0 = unknown)
//   10      1     seq: DATA sequence number (0 in other types)
//   11      1     ack: next sequence number the sender expects (cumulative)
//   12      2     payload length, little-endian
//   14      n     payload
//   14+n    4     CRC-32C of bytes 0 .. 13+n, little-endian
//
// Pure code; FrameDecoder is a value type with no thread safety of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/link/cobs.h"

namespace posd::link {

inline constexpr uint8_t kProtocolVersion = 1;
inline constexpr size_t kHeaderSize = 14;
inline constexpr size_t kCrcSize = 4;
inline constexpr uint8_t kDelimiter = 0x00;
// Every frame stays inside CRC-32C's Hamming-distance-6 range (5,243 bits):
// (14 + 512 + 4) bytes = 4,240 bits.
inline constexpr size_t kMaxFramePayloadLimit = 512;
// Largest decoded frame and largest encoded frame (delimiter excluded).
inline constexpr size_t kMaxRawFrameSize = kHeaderSize + kMaxFramePayloadLimit + kCrcSize;
inline constexpr size_t kMaxEncodedFrameSize = CobsMaxEncodedSize(kMaxRawFrameSize);

enum class FrameType : uint8_t {
  kData = 1,      // a fragment of a message, with a sequence number
  kAck = 2,       // cumulative acknowledgement: all seq before `ack` arrived
  kNak = 3,       // ACK plus "frame `ack` is missing or arrived corrupt"
  kHello = 4,     // start or restart a session; payload = HelloParams
  kHelloAck = 5,  // answer to HELLO; payload = HelloParams
};
std::string_view FrameTypeName(FrameType type);

inline constexpr uint8_t kFlagMore = 0x01;

struct FrameHeader {
  FrameType type = FrameType::kData;
  uint8_t flags = 0;
  uint32_t src_epoch = 0;
  uint32_t dst_epoch = 0;
  uint8_t seq = 0;
  uint8_t ack = 0;

  bool operator==(const FrameHeader&) const = default;
};

struct Frame {
  FrameHeader header;
  std::vector<uint8_t> payload;

  bool operator==(const Frame&) const = default;
};

// Size on the wire (COBS and one delimiter included) of a frame whose payload
// has `payload_size` bytes. Used for timers and pacing.
constexpr size_t WireFrameSize(size_t payload_size) {
  return CobsMaxEncodedSize(kHeaderSize + payload_size + kCrcSize) + 1;
}

// Appends the encoded frame and its trailing delimiter to `out`.
// INVALID_ARGUMENT if the payload exceeds kMaxFramePayloadLimit.
absl::Status AppendEncodedFrame(const FrameHeader& header, std::span<const uint8_t> payload,
                                std::vector<uint8_t>& out);

// Parses an unstuffed frame (header | payload | crc). DATA_LOSS on a CRC
// mismatch; INVALID_ARGUMENT when it is too short, its length field disagrees
// with its size, or its version or type is unknown.
absl::StatusOr<Frame> ParseRawFrame(std::span<const uint8_t> raw);

// Parameters a session announces in HELLO and HELLO_ACK (8-byte payload):
// receive window (1 byte), reserved (1 byte, 0), largest frame payload it
// accepts (2 bytes LE), largest message it accepts (4 bytes LE).
struct HelloParams {
  uint8_t window = 0;
  uint16_t max_frame_payload = 0;
  uint32_t max_message_size = 0;

  bool operator==(const HelloParams&) const = default;
};
inline constexpr size_t kHelloPayloadSize = 8;
std::vector<uint8_t> EncodeHelloParams(const HelloParams& params);
absl::StatusOr<HelloParams> DecodeHelloParams(std::span<const uint8_t> payload);

// Splits a byte stream, fed in chunks of any size, into frames. Bytes before
// the first delimiter and any block that fails to decode are reported as
// errors and skipped: the decoder resynchronises at the next 0x00, so garbage
// costs at most the frame it touches.
class FrameDecoder {
 public:
  // One outcome per delimited block. Empty blocks (consecutive delimiters)
  // produce nothing. Errors: DATA_LOSS (CRC), INVALID_ARGUMENT (malformed),
  // OUT_OF_RANGE (block longer than any valid frame; skipped up to the next
  // delimiter).
  using Result = absl::StatusOr<Frame>;

  // Appends one result per block completed by `bytes` to `results`.
  void Feed(std::span<const uint8_t> bytes, std::vector<Result>& results);

  // Forgets a partial block (used when the peer is known to have restarted).
  void Reset();

  // Bytes held from an unfinished block; never above kMaxEncodedFrameSize.
  size_t buffered() const { return block_.size(); }

 private:
  std::vector<uint8_t> block_;
  std::vector<uint8_t> raw_;
  bool overflow_ = false;
};

}  // namespace posd::link
