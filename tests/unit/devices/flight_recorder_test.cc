#include "service/devices/flight_recorder.h"

#include "gtest/gtest.h"

namespace posd::devices {
namespace {

posd::v1::TraceEntry Entry(uint64_t n) {
  posd::v1::TraceEntry entry;
  entry.set_entry_number(n);
  return entry;
}

TEST(FlightRecorderTest, KeepsEverythingUntilFullOldestFirst) {
  FlightRecorder recorder(4);
  for (uint64_t n = 1; n <= 3; ++n) recorder.Add(Entry(n));
  const auto entries = recorder.Snapshot();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries.front().entry_number(), 1u);
  EXPECT_EQ(entries.back().entry_number(), 3u);
}

TEST(FlightRecorderTest, AFullRingForgetsTheOldest) {
  FlightRecorder recorder(4);
  for (uint64_t n = 1; n <= 10; ++n) recorder.Add(Entry(n));
  EXPECT_EQ(recorder.size(), 4u);
  const auto entries = recorder.Snapshot();
  ASSERT_EQ(entries.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(entries[i].entry_number(), 7 + i);
}

TEST(FlightRecorderTest, SnapshotOfTheMostRecent) {
  FlightRecorder recorder(5);
  for (uint64_t n = 1; n <= 7; ++n) recorder.Add(Entry(n));
  const auto entries = recorder.Snapshot(2);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].entry_number(), 6u);
  EXPECT_EQ(entries[1].entry_number(), 7u);
  EXPECT_EQ(recorder.Snapshot(100).size(), 5u);
}

TEST(FlightRecorderTest, DefaultHoldsAFewThousand) {
  FlightRecorder recorder;
  EXPECT_GE(recorder.capacity(), 2000u);
  EXPECT_TRUE(recorder.Snapshot().empty());
}

}  // namespace
}  // namespace posd::devices
