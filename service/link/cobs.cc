#include "service/link/cobs.h"

namespace posd::link {

void CobsEncode(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  out.reserve(out.size() + CobsMaxEncodedSize(in.size()));
  size_t code_index = out.size();
  out.push_back(0);  // placeholder for the first code byte
  uint8_t code = 1;
  for (uint8_t byte : in) {
    if (byte == 0) {
      out[code_index] = code;
      code_index = out.size();
      out.push_back(0);
      code = 1;
      continue;
    }
    out.push_back(byte);
    if (++code == 0xFF) {
      out[code_index] = code;
      code_index = out.size();
      out.push_back(0);
      code = 1;
    }
  }
  out[code_index] = code;
}

absl::Status CobsDecode(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  out.clear();
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const uint8_t code = in[i++];
    if (code == 0) return absl::InvalidArgumentError("cobs: zero byte inside a block");
    const size_t run = code - 1u;
    if (run > in.size() - i) return absl::InvalidArgumentError("cobs: code runs past the end");
    for (size_t k = 0; k < run; ++k) {
      if (in[i + k] == 0) return absl::InvalidArgumentError("cobs: zero byte inside a block");
      out.push_back(in[i + k]);
    }
    i += run;
    // A code below 0xFF stands for a zero, except after the last group.
    if (code != 0xFF && i < in.size()) out.push_back(0);
  }
  return absl::OkStatus();
}

}  // namespace posd::link
