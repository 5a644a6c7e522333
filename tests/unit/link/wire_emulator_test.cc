#include "service/link/testing/wire_emulator.h"

#include <chrono>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace posd::link::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TimePoint T(Duration d) { return TimePoint{} + d; }

std::vector<uint8_t> ReadAll(WireLine& line, TimePoint until) {
  std::vector<uint8_t> out;
  while (line.NextReadTime() && *line.NextReadTime() <= until) {
    std::vector<uint8_t> chunk = line.Read(*line.NextReadTime());
    out.insert(out.end(), chunk.begin(), chunk.end());
  }
  return out;
}

TEST(WireLineTest, BytesTakeTenBitTimesEach) {
  WireLineConfig config;
  config.baud = 9600;
  config.max_read_latency = Duration::zero();
  WireLine line(config, 1);
  EXPECT_EQ(line.byte_time(), Duration(1'041'666));
  line.Write(std::vector<uint8_t>{1, 2, 3}, T(0s));
  EXPECT_EQ(line.line_free_at(), T(3 * line.byte_time()));
  ASSERT_TRUE(line.NextReadTime().has_value());
  EXPECT_EQ(*line.NextReadTime(), T(line.byte_time()));
  EXPECT_THAT(line.Read(T(2 * line.byte_time())), ElementsAre(1, 2));
  EXPECT_THAT(line.Read(T(10s)), ElementsAre(3));
  EXPECT_FALSE(line.NextReadTime().has_value());
}

TEST(WireLineTest, ElevenBitBytes) {
  WireLineConfig config;
  config.baud = 115200;
  config.bits_per_byte = 11;
  WireLine line(config, 1);
  EXPECT_EQ(line.byte_time(), Duration(95'486));
}

TEST(WireLineTest, WritesQueueBehindEachOther) {
  WireLineConfig config;
  config.baud = 9600;
  WireLine line(config, 1);
  line.Write(std::vector<uint8_t>(10, 1), T(0s));
  line.Write(std::vector<uint8_t>(10, 2), T(0s));
  EXPECT_EQ(line.line_free_at(), T(20 * line.byte_time()));
  std::vector<uint8_t> all = ReadAll(line, T(1s));
  EXPECT_EQ(all.size(), 20u);
  EXPECT_EQ(all[10], 2);
}

TEST(WireLineTest, BitErrorRateIsRespected) {
  WireLineConfig config;
  config.faults.bit_error_rate = 1e-3;
  WireLine line(config, 42);
  std::vector<uint8_t> data(100'000, 0x55);
  line.Write(data, T(0s));
  const double expected = 100'000 * 10 * 1e-3;
  EXPECT_NEAR(static_cast<double>(line.stats().bit_errors), expected, expected * 0.1);
  std::vector<uint8_t> got = ReadAll(line, T(100s));
  ASSERT_EQ(got.size(), data.size());
  EXPECT_NE(got, data);
}

TEST(WireLineTest, FrameFaultsNeedDelimiters) {
  WireLineConfig config;
  config.faults.frame_drop_rate = 1.0;
  WireLine line(config, 3);
  line.Write(std::vector<uint8_t>{0, 5, 6, 7, 0, 8, 9, 0}, T(0s));
  EXPECT_EQ(line.stats().frames_dropped, 2u);
  EXPECT_THAT(ReadAll(line, T(1s)), ElementsAre(0));
}

TEST(WireLineTest, DuplicateAndTruncate) {
  WireLineConfig config;
  config.faults.frame_duplicate_rate = 1.0;
  WireLine line(config, 3);
  line.Write(std::vector<uint8_t>{5, 6, 7, 0}, T(0s));
  EXPECT_THAT(ReadAll(line, T(1s)), ElementsAre(5, 6, 7, 0, 5, 6, 7, 0));
  config.faults = {};
  config.faults.frame_truncate_rate = 1.0;
  WireLine cut(config, 3);
  cut.Write(std::vector<uint8_t>{5, 6, 7, 0}, T(0s));
  EXPECT_LT(ReadAll(cut, T(1s)).size(), 3u);
}

TEST(WireLineTest, PauseInsideFrame) {
  WireLineConfig config;
  config.faults.pause_rate = 1.0;
  config.faults.pause_min = config.faults.pause_max = 500ms;
  WireLine line(config, 3);
  line.Write(std::vector<uint8_t>{5, 6, 7, 8, 0}, T(0s));
  EXPECT_GT(line.line_free_at(), T(500ms));
  EXPECT_THAT(ReadAll(line, T(1s)), ElementsAre(5, 6, 7, 8, 0));
}

TEST(WireLineTest, PowerCutKeepsOnlyBytesAlreadySent) {
  WireLineConfig config;
  config.baud = 9600;
  config.max_read_latency = Duration::zero();
  WireLine line(config, 1);
  line.Write(std::vector<uint8_t>(100, 7), T(0s));
  line.CutSender(T(10 * line.byte_time() + line.byte_time() / 2));
  EXPECT_EQ(ReadAll(line, T(10s)).size(), 10u);
  EXPECT_EQ(line.stats().bytes_cut, 90u);
  line.CutSender(T(20s));
  EXPECT_THAT(ReadAll(line, T(30s)), IsEmpty());
}

TEST(WireLineTest, SameSeedSameFaults) {
  WireLineConfig config;
  config.faults.bit_error_rate = 1e-3;
  config.faults.byte_drop_rate = 1e-3;
  WireLine a(config, 9), b(config, 9);
  std::vector<uint8_t> data(10'000, 0xA5);
  a.Write(data, T(0s));
  b.Write(data, T(0s));
  EXPECT_EQ(ReadAll(a, T(100s)), ReadAll(b, T(100s)));
}

}  // namespace
}  // namespace posd::link::testing
