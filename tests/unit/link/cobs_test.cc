#include "service/link/cobs.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::link {
namespace {

using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Not;
using ::testing::Contains;

std::vector<uint8_t> Encode(const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out;
  CobsEncode(in, out);
  return out;
}

// Examples from Cheshire and Baker's paper (and the Wikipedia table).
TEST(CobsTest, KnownEncodings) {
  EXPECT_THAT(Encode({}), ElementsAre(0x01));
  EXPECT_THAT(Encode({0x00}), ElementsAre(0x01, 0x01));
  EXPECT_THAT(Encode({0x00, 0x00}), ElementsAre(0x01, 0x01, 0x01));
  EXPECT_THAT(Encode({0x11, 0x22, 0x00, 0x33}), ElementsAre(0x03, 0x11, 0x22, 0x02, 0x33));
  EXPECT_THAT(Encode({0x11, 0x00, 0x00, 0x00}), ElementsAre(0x02, 0x11, 0x01, 0x01, 0x01));
}

TEST(CobsTest, EveryByteValueRoundTripsWithoutZeros) {
  for (int value = 0; value < 256; ++value) {
    for (size_t length : {1u, 2u, 253u, 254u, 255u, 508u, 600u}) {
      std::vector<uint8_t> in(length, static_cast<uint8_t>(value));
      std::vector<uint8_t> encoded = Encode(in);
      EXPECT_THAT(encoded, Not(Contains(0)));
      EXPECT_LE(encoded.size(), CobsMaxEncodedSize(in.size()));
      std::vector<uint8_t> decoded;
      POSD_ASSERT_OK(CobsDecode(encoded, decoded));
      EXPECT_EQ(decoded, in) << value << " x " << length;
    }
  }
}

TEST(CobsTest, AllValuesInOneBlock) {
  std::vector<uint8_t> in;
  for (int round = 0; round < 3; ++round) {
    for (int v = 0; v < 256; ++v) in.push_back(static_cast<uint8_t>(v));
  }
  std::vector<uint8_t> decoded;
  POSD_ASSERT_OK(CobsDecode(Encode(in), decoded));
  EXPECT_EQ(decoded, in);
}

TEST(CobsTest, RejectsZeroInsideBlock) {
  std::vector<uint8_t> out;
  EXPECT_THAT(CobsDecode(std::vector<uint8_t>{0x03, 0x11, 0x00}, out),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CobsDecode(std::vector<uint8_t>{0x00}, out),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CobsTest, RejectsCodePastEnd) {
  std::vector<uint8_t> out;
  EXPECT_THAT(CobsDecode(std::vector<uint8_t>{0x05, 0x11, 0x22}, out),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace posd::link
