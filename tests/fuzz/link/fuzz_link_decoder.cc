// Fuzz target for the frame decoder and the codec beneath it.
//
// The input is fed to a FrameDecoder in chunks whose sizes come from the
// input itself. Properties: no crash or sanitizer report; the decoder's
// buffer stays bounded; every frame that decodes re-encodes to a block that
// decodes to the same frame; COBS round-trips any byte string.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "service/link/cobs.h"
#include "service/link/frame.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace posd::link;
  std::span<const uint8_t> input(data, size);

  std::vector<uint8_t> encoded;
  CobsEncode(input, encoded);
  for (uint8_t b : encoded) Check(b != 0);
  Check(encoded.size() <= CobsMaxEncodedSize(size));
  std::vector<uint8_t> decoded;
  Check(CobsDecode(encoded, decoded).ok());
  Check(decoded.size() == size && std::equal(decoded.begin(), decoded.end(), data));

  FrameDecoder decoder;
  std::vector<FrameDecoder::Result> results;
  size_t pos = 0;
  size_t step = size == 0 ? 1 : (data[0] % 17) + 1;
  while (pos < size) {
    const size_t n = std::min(step, size - pos);
    decoder.Feed(input.subspan(pos, n), results);
    Check(decoder.buffered() <= kMaxEncodedFrameSize);
    pos += n;
    step = (data[pos - 1] % 31) + 1;
  }
  for (const FrameDecoder::Result& r : results) {
    if (!r.ok()) continue;
    std::vector<uint8_t> again;
    Check(AppendEncodedFrame(r->header, r->payload, again).ok());
    FrameDecoder second;
    std::vector<FrameDecoder::Result> back;
    second.Feed(again, back);
    Check(back.size() == 1 && back[0].ok() && *back[0] == *r);
  }
  (void)ParseRawFrame(input);
  (void)DecodeHelloParams(input);
  return 0;
}
