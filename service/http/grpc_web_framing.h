// The gRPC-Web wire format (grpc/grpc doc/PROTOCOL-WEB.md), free of any HTTP
// library: length-prefixed frames, the trailer frame, text mode (base64),
// grpc-timeout and grpc-message encoding. Pure functions and one incremental
// decoder; used by the bridge, its tests, the fuzz target and the benchmark's
// client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posd::http {

// Flag bits of a frame's first byte.
inline constexpr uint8_t kFrameCompressed = 0x01;
inline constexpr uint8_t kFrameTrailers = 0x80;
inline constexpr std::size_t kFrameHeaderSize = 5;

struct GrpcWebFrame {
  bool trailers = false;  // true: payload is a block of "key: value\r\n" lines
  std::string payload;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Splits a byte stream into frames, whatever the chunking. Not thread-safe.
// Once Feed returned an error the decoder stays failed (the rest of the
// stream cannot be framed any more).
class GrpcWebFrameDecoder {
 public:
  // `max_payload_bytes`: a frame announcing more is refused at once, before
  // its payload is buffered.
  explicit GrpcWebFrameDecoder(std::size_t max_payload_bytes) : max_payload_(max_payload_bytes) {}

  // Appends every frame completed by `bytes` to `frames`.
  // RESOURCE_EXHAUSTED: a frame longer than the limit. UNIMPLEMENTED: a
  // compressed frame (posd negotiates no compression). INVALID_ARGUMENT:
  // unknown flag bits.
  absl::Status Feed(std::string_view bytes, std::vector<GrpcWebFrame>& frames);

  // OK when the stream ended on a frame boundary; INVALID_ARGUMENT naming
  // how many bytes of a partial frame were left otherwise.
  absl::Status Finish() const;

  // Bytes of an incomplete frame held.
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::size_t max_payload_;
  std::string buffer_;
  absl::Status failed_;
};

// Appends one data frame carrying `message`.
void AppendMessageFrame(std::string_view message, std::string& out);

// Appends the trailer frame: each (key, value) as "key: value\r\n", keys in
// lower case as given.
void AppendTrailerFrame(const HeaderList& trailers, std::string& out);

// Parses a trailer frame's payload. INVALID_ARGUMENT on a line without ':'.
absl::StatusOr<HeaderList> ParseTrailerBlock(std::string_view block);

// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);

// Decodes text mode bodies: base64 in groups of four, where a padded group
// may end one segment and another segment follow (a streamed text body is a
// concatenation of separately encoded chunks). Incremental: call Feed with
// pieces of any size, then Finish. Not thread-safe.
class Base64StreamDecoder {
 public:
  // Appends the decoded bytes to `out`; INVALID_ARGUMENT on a character
  // outside the alphabet or misplaced padding.
  absl::Status Feed(std::string_view text, std::string& out);
  // INVALID_ARGUMENT when the text ended inside a group of four.
  absl::Status Finish() const;

 private:
  char pending_[4] = {};
  int pending_size_ = 0;
};

// Parses a grpc-timeout value ("100m", "5S", up to 8 digits and one unit of
// H, M, S, m, u, n). INVALID_ARGUMENT on anything else.
absl::StatusOr<std::chrono::nanoseconds> ParseGrpcTimeout(std::string_view value);

// grpc-message is percent-encoded: every byte outside printable ASCII, and
// '%', becomes %XX (gRPC's HTTP/2 protocol, "Status-Message").
std::string PercentEncodeGrpcMessage(std::string_view message);
std::string PercentDecodeGrpcMessage(std::string_view message);

}  // namespace posd::http
