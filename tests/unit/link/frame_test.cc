#include "service/link/frame.h"

#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/link/crc32c.h"
#include "tests/support/status_matchers.h"

namespace posd::link {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::ElementsAreArray;
using ::testing::SizeIs;

FrameHeader DataHeader(uint8_t seq) {
  FrameHeader h;
  h.type = FrameType::kData;
  h.flags = kFlagMore;
  h.src_epoch = 0x11223344;
  h.dst_epoch = 0xA0B0C0D0;
  h.seq = seq;
  h.ack = 7;
  return h;
}

std::vector<uint8_t> Encode(const FrameHeader& h, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out;
  EXPECT_THAT(AppendEncodedFrame(h, payload, out), IsOk());
  return out;
}

std::vector<FrameDecoder::Result> DecodeAll(const std::vector<uint8_t>& wire) {
  FrameDecoder decoder;
  std::vector<FrameDecoder::Result> results;
  decoder.Feed(wire, results);
  return results;
}

TEST(FrameTest, RoundTrip) {
  const std::vector<uint8_t> payload = {1, 2, 0, 3, 0, 0, 255};
  std::vector<uint8_t> wire = Encode(DataHeader(42), payload);
  EXPECT_EQ(wire.back(), 0x00);
  EXPECT_EQ(std::count(wire.begin(), wire.end(), 0), 1);
  EXPECT_EQ(wire.size(), WireFrameSize(payload.size()));
  auto results = DecodeAll(wire);
  ASSERT_THAT(results, SizeIs(1));
  ASSERT_THAT(results[0], IsOk());
  EXPECT_EQ(results[0]->header, DataHeader(42));
  EXPECT_EQ(results[0]->payload, payload);
}

// The worked example of docs/protocol.md: an ACK from epoch 0x11223344 to
// 0xA0B0C0D0 acknowledging everything before seq 5.
TEST(FrameTest, WorkedExampleAck) {
  FrameHeader h;
  h.type = FrameType::kAck;
  h.src_epoch = 0x11223344;
  h.dst_epoch = 0xA0B0C0D0;
  h.ack = 5;
  std::vector<uint8_t> raw = {0x12, 0x00, 0x44, 0x33, 0x22, 0x11, 0xD0, 0xC0,
                              0xB0, 0xA0, 0x00, 0x05, 0x00, 0x00};
  const uint32_t crc = Crc32c(raw);
  for (int i = 0; i < 4; ++i) raw.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  std::vector<uint8_t> expected;
  CobsEncode(raw, expected);
  expected.push_back(0);
  EXPECT_EQ(Encode(h, {}), expected);
  EXPECT_EQ(crc, 0x49DB792Eu) << std::hex << crc;
  EXPECT_THAT(expected, ElementsAreArray({0x02, 0x12, 0x09, 0x44, 0x33, 0x22, 0x11, 0xD0, 0xC0,
                                          0xB0, 0xA0, 0x02, 0x05, 0x01, 0x05, 0x2E, 0x79, 0xDB,
                                          0x49, 0x00}));
}

// The HELLO and DATA examples of docs/protocol.md, byte for byte.
TEST(FrameTest, WorkedExamplesOfTheSpecification) {
  FrameHeader hello;
  hello.type = FrameType::kHello;
  hello.src_epoch = 0x11223344;
  EXPECT_THAT(Encode(hello, EncodeHelloParams({8, 256, 4096})),
              ElementsAreArray({0x02, 0x14, 0x05, 0x44, 0x33, 0x22, 0x11, 0x01, 0x01, 0x01, 0x01,
                                0x01, 0x02, 0x08, 0x02, 0x08, 0x01, 0x02, 0x01, 0x02, 0x10, 0x01,
                                0x05, 0xC3, 0x5B, 0xD5, 0xB1, 0x00}));
  FrameHeader data;
  data.type = FrameType::kData;
  data.src_epoch = 0x11223344;
  data.dst_epoch = 0xA0B0C0D0;
  EXPECT_THAT(Encode(data, {0x68, 0x69}),
              ElementsAreArray({0x02, 0x11, 0x09, 0x44, 0x33, 0x22, 0x11, 0xD0, 0xC0, 0xB0, 0xA0,
                                0x01, 0x02, 0x02, 0x07, 0x68, 0x69, 0x3E, 0xFC, 0x2C, 0x03, 0x00}));
  data.seq = 1;
  data.flags = kFlagMore;
  EXPECT_THAT(Encode(data, {0x00, 0x01, 0x00}),
              ElementsAreArray({0x0C, 0x11, 0x01, 0x44, 0x33, 0x22, 0x11, 0xD0, 0xC0, 0xB0, 0xA0,
                                0x01, 0x02, 0x03, 0x01, 0x02, 0x01, 0x05, 0x17, 0x64, 0x03, 0x6F,
                                0x00}));
}

TEST(FrameTest, EveryByteValueInPayloadSurvives) {
  for (int value = 0; value < 256; ++value) {
    for (size_t length : {1u, 254u, 255u, 512u}) {
      std::vector<uint8_t> payload(length, static_cast<uint8_t>(value));
      auto results = DecodeAll(Encode(DataHeader(static_cast<uint8_t>(value)), payload));
      ASSERT_THAT(results, SizeIs(1));
      ASSERT_THAT(results[0], IsOk());
      EXPECT_EQ(results[0]->payload, payload);
    }
  }
}

// Frames whose CRC (or epochs, seq and ack) contain 0x00 in each position must
// decode too: search payloads until each CRC byte has been zero.
TEST(FrameTest, ZeroBytesInCrcAndHeader) {
  std::array<bool, 4> seen{};
  FrameHeader h = DataHeader(0);
  h.src_epoch = 0x00010000;
  h.dst_epoch = 0x00000100;
  h.ack = 0;
  for (uint32_t n = 0; n < 200000 && !(seen[0] && seen[1] && seen[2] && seen[3]); ++n) {
    std::vector<uint8_t> payload = {static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8),
                                    static_cast<uint8_t>(n >> 16)};
    std::vector<uint8_t> wire = Encode(h, payload);
    std::vector<uint8_t> raw;
    ASSERT_THAT(CobsDecode(std::span(wire).first(wire.size() - 1), raw), IsOk());
    const size_t crc_at = raw.size() - 4;
    bool interesting = false;
    for (int i = 0; i < 4; ++i) {
      if (raw[crc_at + i] == 0 && !seen[i]) interesting = seen[i] = true;
    }
    if (!interesting) continue;
    auto results = DecodeAll(wire);
    ASSERT_THAT(results, SizeIs(1));
    ASSERT_THAT(results[0], IsOk());
    EXPECT_EQ(results[0]->payload, payload);
  }
  EXPECT_TRUE(seen[0] && seen[1] && seen[2] && seen[3]);
}

TEST(FrameTest, SplitAtEveryOffset) {
  std::vector<uint8_t> wire;
  std::vector<std::vector<uint8_t>> payloads = {{}, {0}, std::vector<uint8_t>(300, 0),
                                                std::vector<uint8_t>(40, 7)};
  for (size_t i = 0; i < payloads.size(); ++i) {
    std::vector<uint8_t> frame = Encode(DataHeader(static_cast<uint8_t>(i)), payloads[i]);
    wire.insert(wire.end(), frame.begin(), frame.end());
  }
  for (size_t a = 0; a <= wire.size(); ++a) {
    for (size_t b = a; b <= wire.size(); b += (a % 5 == 0 ? 1 : 17)) {
      FrameDecoder decoder;
      std::vector<FrameDecoder::Result> results;
      std::span<const uint8_t> all(wire);
      decoder.Feed(all.first(a), results);
      decoder.Feed(all.subspan(a, b - a), results);
      decoder.Feed(all.subspan(b), results);
      ASSERT_THAT(results, SizeIs(payloads.size())) << a << "," << b;
      for (size_t i = 0; i < payloads.size(); ++i) {
        ASSERT_THAT(results[i], IsOk());
        EXPECT_EQ(results[i]->payload, payloads[i]);
        EXPECT_EQ(results[i]->header.seq, i);
      }
    }
  }
}

TEST(FrameTest, ByteAtATime) {
  std::vector<uint8_t> wire = Encode(DataHeader(3), std::vector<uint8_t>(512, 0));
  FrameDecoder decoder;
  std::vector<FrameDecoder::Result> results;
  for (uint8_t byte : wire) decoder.Feed(std::span(&byte, 1), results);
  ASSERT_THAT(results, SizeIs(1));
  EXPECT_THAT(results[0], IsOk());
}

TEST(FrameTest, ResynchronisesAfterGarbage) {
  std::vector<uint8_t> wire = {'B', 'O', 'O', 'T', '\r', '\n', 0xFF, 0x13};
  wire.push_back(0);  // the leading delimiter a sender adds after an idle line
  std::vector<uint8_t> frame = Encode(DataHeader(1), {9, 9});
  wire.insert(wire.end(), frame.begin(), frame.end());
  auto results = DecodeAll(wire);
  ASSERT_THAT(results, SizeIs(2));
  EXPECT_THAT(results[0], StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(results[1], IsOk());
  EXPECT_EQ(results[1]->payload, std::vector<uint8_t>({9, 9}));
}

TEST(FrameTest, CorruptionIsDataLoss) {
  std::vector<uint8_t> wire = Encode(DataHeader(1), std::vector<uint8_t>(100, 0x55));
  wire[50] ^= 0x04;
  auto results = DecodeAll(wire);
  ASSERT_THAT(results, SizeIs(1));
  EXPECT_THAT(results[0], StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameTest, TruncatedFrameIsRejected) {
  std::vector<uint8_t> wire = Encode(DataHeader(1), std::vector<uint8_t>(100, 0x55));
  for (size_t keep = 1; keep + 1 < wire.size(); ++keep) {
    std::vector<uint8_t> cut(wire.begin(), wire.begin() + static_cast<ptrdiff_t>(keep));
    cut.push_back(0);
    auto results = DecodeAll(cut);
    ASSERT_THAT(results, SizeIs(1));
    EXPECT_FALSE(results[0].ok()) << keep;
  }
}

TEST(FrameTest, OversizeBlockIsSkippedAndBounded) {
  std::vector<uint8_t> wire(3 * kMaxEncodedFrameSize, 0x42);
  wire.push_back(0);
  std::vector<uint8_t> frame = Encode(DataHeader(1), {1});
  wire.insert(wire.end(), frame.begin(), frame.end());
  FrameDecoder decoder;
  std::vector<FrameDecoder::Result> results;
  decoder.Feed(std::span(wire).first(2 * kMaxEncodedFrameSize), results);
  EXPECT_LE(decoder.buffered(), kMaxEncodedFrameSize);
  decoder.Feed(std::span(wire).subspan(2 * kMaxEncodedFrameSize), results);
  ASSERT_THAT(results, SizeIs(2));
  EXPECT_THAT(results[0], StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(results[1], IsOk());
}

TEST(FrameTest, RejectsBadVersionTypeAndLength) {
  auto raw_frame = [](std::vector<uint8_t> raw) {
    const uint32_t crc = Crc32c(raw);
    for (int i = 0; i < 4; ++i) raw.push_back(static_cast<uint8_t>(crc >> (8 * i)));
    return raw;
  };
  std::vector<uint8_t> good = {0x12, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_THAT(ParseRawFrame(raw_frame(good)), IsOk());
  std::vector<uint8_t> bad_version = good;
  bad_version[0] = 0x22;
  EXPECT_THAT(ParseRawFrame(raw_frame(bad_version)), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<uint8_t> bad_type = good;
  bad_type[0] = 0x1F;
  EXPECT_THAT(ParseRawFrame(raw_frame(bad_type)), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<uint8_t> bad_length = good;
  bad_length[12] = 1;
  EXPECT_THAT(ParseRawFrame(raw_frame(bad_length)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRawFrame(std::vector<uint8_t>(10, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FrameTest, PayloadLimit) {
  std::vector<uint8_t> out;
  EXPECT_THAT(AppendEncodedFrame(DataHeader(0), std::vector<uint8_t>(kMaxFramePayloadLimit + 1),
                                 out),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AppendEncodedFrame(DataHeader(0), std::vector<uint8_t>(kMaxFramePayloadLimit), out),
              IsOk());
}

TEST(FrameTest, HelloParamsRoundTrip) {
  HelloParams p{8, 256, 4096};
  std::vector<uint8_t> bytes = EncodeHelloParams(p);
  EXPECT_THAT(bytes, ElementsAreArray({0x08, 0x00, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00}));
  absl::StatusOr<HelloParams> back = DecodeHelloParams(bytes);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(*back, p);
  EXPECT_THAT(DecodeHelloParams(std::vector<uint8_t>(3)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeHelloParams(std::vector<uint8_t>(8, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FrameTest, RandomGarbageNeverCrashesAndStaysBounded) {
  std::mt19937 rng(7);
  FrameDecoder decoder;
  std::vector<FrameDecoder::Result> results;
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> chunk(rng() % 64);
    for (auto& b : chunk) b = static_cast<uint8_t>(rng() % 8 == 0 ? 0 : rng());
    decoder.Feed(chunk, results);
    EXPECT_LE(decoder.buffered(), kMaxEncodedFrameSize);
  }
}

}  // namespace
}  // namespace posd::link
