// Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999).
//
// COBS removes every 0x00 from a block so that 0x00 can delimit frames on the
// wire. Unlike HDLC-style byte stuffing, whose worst case doubles the frame
// (a payload of flag and escape bytes, which binary data and CRCs produce),
// COBS costs at most one byte per 254, so frame times, and the timers derived
// from them, are known in advance.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"

namespace posd::link {

// Largest encoding of `n` input bytes (delimiter not included).
constexpr size_t CobsMaxEncodedSize(size_t n) { return n + n / 254 + 1; }

// Appends the encoding of `in` (without a delimiter) to `out`.
void CobsEncode(std::span<const uint8_t> in, std::vector<uint8_t>& out);

// Decodes one block (without its delimiter) into `out` (replacing its
// contents). INVALID_ARGUMENT if the block holds a 0x00 or a code byte points
// past the end.
absl::Status CobsDecode(std::span<const uint8_t> in, std::vector<uint8_t>& out);

}  // namespace posd::link
