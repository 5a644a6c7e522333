// Fuzz target for the gRPC-Web frame parser and text mode beneath it.
//
// The first byte picks the mode and the chunking. Properties: no crash or
// sanitizer report; the decoder never buffers more than one frame's header
// and the limit; every frame it yields re-encodes to the bytes it came from;
// base64 of any decoded text round-trips; trailer blocks parse or are
// refused cleanly; grpc-timeout never overflows.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "service/http/grpc_web_framing.h"

namespace {

constexpr std::size_t kLimit = 4096;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace posd::http;
  if (size == 0) return 0;
  const uint8_t control = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string bytes(input);
  if ((control & 1) != 0) {  // text mode: base64 first
    Base64StreamDecoder base64;
    std::string decoded;
    if (!base64.Feed(input, decoded).ok()) return 0;
    Check(decoded.size() <= input.size());
    const std::string again = Base64Encode(decoded);
    Base64StreamDecoder second;
    std::string back;
    Check(second.Feed(again, back).ok() && second.Finish().ok() && back == decoded);
    bytes = decoded;
  }

  GrpcWebFrameDecoder decoder(kLimit);
  std::vector<GrpcWebFrame> frames;
  const std::size_t step = (control >> 1) % 64 + 1;
  bool failed = false;
  for (std::size_t i = 0; i < bytes.size() && !failed; i += step) {
    failed = !decoder.Feed(std::string_view(bytes).substr(i, step), frames).ok();
    Check(decoder.buffered() <= kLimit + kFrameHeaderSize + step);
  }
  std::string reencoded;
  for (const auto& frame : frames) {
    Check(frame.payload.size() <= kLimit);
    if (frame.trailers) {
      auto parsed = ParseTrailerBlock(frame.payload);
      if (parsed.ok()) {
        for (const auto& [key, value] : *parsed) {
          if (key == "grpc-timeout") (void)ParseGrpcTimeout(value);
          (void)PercentDecodeGrpcMessage(value);
        }
      }
      reencoded.push_back(static_cast<char>(kFrameTrailers));
      const auto n = static_cast<uint32_t>(frame.payload.size());
      reencoded.push_back(static_cast<char>(n >> 24));
      reencoded.push_back(static_cast<char>(n >> 16));
      reencoded.push_back(static_cast<char>(n >> 8));
      reencoded.push_back(static_cast<char>(n));
      reencoded.append(frame.payload);
    } else {
      AppendMessageFrame(frame.payload, reencoded);
    }
  }
  Check(bytes.compare(0, reencoded.size(), reencoded) == 0);
  if (!failed && decoder.Finish().ok()) Check(reencoded.size() == bytes.size());
  const std::string message(input.substr(0, 256));
  Check(PercentDecodeGrpcMessage(PercentEncodeGrpcMessage(message)) == message);
  (void)ParseGrpcTimeout(input.substr(0, 12));
  return 0;
}
