// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and
// final XOR 0xFFFFFFFF. Check value: Crc32c("123456789") == 0xE3069283.
//
// Chosen over CRC-32 (IEEE) because its Hamming distance is larger at the frame
// sizes the link uses (HD 6 up to 5,243 data bits, Koopman 2002), and over
// CRC-16/LRC because 16 bits let one corrupt frame in 65,536 through.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>

namespace posd::link {

// Continues a CRC: pass the previous result as `crc` (0 to start).
uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> data);

inline uint32_t Crc32c(std::span<const uint8_t> data) { return Crc32cExtend(0, data); }

}  // namespace posd::link
