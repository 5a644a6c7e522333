#include "service/link/crc32c.h"

#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace posd::link {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Crc32cTest, CheckValue) { EXPECT_EQ(Crc32c(Bytes("123456789")), 0xE3069283u); }

TEST(Crc32cTest, EmptyIsZero) { EXPECT_EQ(Crc32c({}), 0u); }

// Vectors from RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32cTest, Rfc3720Vectors) {
  std::vector<uint8_t> zeros(32, 0x00);
  std::vector<uint8_t> ones(32, 0xFF);
  std::vector<uint8_t> inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<uint8_t>(i);
    dec[i] = static_cast<uint8_t>(31 - i);
  }
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(dec), 0x113FDB5Cu);
}

TEST(Crc32cTest, ExtendEqualsOneShotAtEverySplit) {
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 37 + 11);
  const uint32_t whole = Crc32c(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    std::span<const uint8_t> all(data);
    EXPECT_EQ(Crc32cExtend(Crc32c(all.first(split)), all.subspan(split)), whole) << split;
  }
}

TEST(Crc32cTest, DetectsEverySingleAndDoubleBitError) {
  std::vector<uint8_t> data(64);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 91);
  const uint32_t good = Crc32c(data);
  const size_t bits = data.size() * 8;
  for (size_t a = 0; a < bits; ++a) {
    data[a / 8] ^= static_cast<uint8_t>(1u << (a % 8));
    EXPECT_NE(Crc32c(data), good);
    for (size_t b = a + 1; b < bits; b += 7) {
      data[b / 8] ^= static_cast<uint8_t>(1u << (b % 8));
      EXPECT_NE(Crc32c(data), good);
      data[b / 8] ^= static_cast<uint8_t>(1u << (b % 8));
    }
    data[a / 8] ^= static_cast<uint8_t>(1u << (a % 8));
  }
}

}  // namespace
}  // namespace posd::link
