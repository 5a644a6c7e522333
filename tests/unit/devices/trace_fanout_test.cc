#include "service/devices/trace_fanout.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::devices {
namespace {

using ::posd::testing::StatusIs;

posd::v1::TraceEntry Entry(uint64_t n, posd::v1::TraceKind kind = posd::v1::TRACE_KIND_FRAME) {
  posd::v1::TraceEntry entry;
  entry.set_entry_number(n);
  entry.set_kind(kind);
  return entry;
}

TEST(TraceFanoutTest, EveryWatcherGetsEveryEntry) {
  TraceFanout fanout;
  std::atomic<int> wakes{0};
  auto a = fanout.Subscribe({}, [&] { ++wakes; });
  auto b = fanout.Subscribe({}, [&] { ++wakes; });
  fanout.Publish(Entry(1));
  fanout.Publish(Entry(2));
  for (const auto& s : {a, b}) {
    EXPECT_EQ(s->TryPop()->entry_number(), 1u);
    EXPECT_EQ(s->TryPop()->entry_number(), 2u);
    EXPECT_FALSE(s->TryPop().has_value());
  }
  // Woken when an entry arrives in an empty queue, not for every entry.
  EXPECT_EQ(wakes.load(), 2);
}

TEST(TraceFanoutTest, ASlowWatcherLosesEntriesAndIsToldHowMany) {
  TraceFanout fanout;
  auto slow = fanout.Subscribe({}, [] {}, /*max_queued=*/2);
  auto fast = fanout.Subscribe({}, [] {});
  for (uint64_t n = 1; n <= 5; ++n) fanout.Publish(Entry(n));
  EXPECT_EQ(slow->TryPop()->entry_number(), 1u);
  EXPECT_EQ(slow->TryPop()->entry_number(), 2u);
  EXPECT_FALSE(slow->TryPop().has_value());
  fanout.Publish(Entry(6));
  const auto next = slow->TryPop();
  EXPECT_EQ(next->entry_number(), 6u);
  EXPECT_EQ(next->dropped_before(), 3u);  // 3, 4 and 5
  // The other watcher lost nothing.
  for (uint64_t n = 1; n <= 6; ++n) EXPECT_EQ(fast->TryPop()->dropped_before(), 0u);
}

TEST(TraceFanoutTest, KindsFilter) {
  TraceFanout fanout;
  auto messages = fanout.Subscribe({posd::v1::TRACE_KIND_MESSAGE}, [] {});
  fanout.Publish(Entry(1, posd::v1::TRACE_KIND_FRAME));
  fanout.Publish(Entry(2, posd::v1::TRACE_KIND_MESSAGE));
  EXPECT_EQ(messages->TryPop()->entry_number(), 2u);
  EXPECT_FALSE(messages->TryPop().has_value());
}

TEST(TraceFanoutTest, EndAllEndsEveryWatcherWithTheReasonAndWakesIt) {
  TraceFanout fanout;
  int woken = 0;
  auto s = fanout.Subscribe({}, [&] { ++woken; });
  fanout.EndAll(absl::NotFoundError("device counter-1 was removed"));
  EXPECT_TRUE(s->has_ended());
  EXPECT_THAT(s->ended(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(fanout.subscriber_count(), 0u);
  // A late subscriber ends at once.
  auto late = fanout.Subscribe({}, [] {});
  EXPECT_THAT(late->ended(), StatusIs(absl::StatusCode::kNotFound));
}

TEST(TraceFanoutTest, NoWakeUpAfterUnsubscribe) {
  TraceFanout fanout;
  std::atomic<int> woken{0};
  auto s = fanout.Subscribe({}, [&] { ++woken; });
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    for (uint64_t n = 0; !stop; ++n) {
      fanout.Publish(Entry(n));
      (void)s->TryPop();
    }
  });
  while (woken.load() < 10) std::this_thread::yield();
  fanout.Unsubscribe(s);
  const int after = woken.load();
  for (int i = 0; i < 1000; ++i) fanout.Publish(Entry(1));
  stop = true;
  publisher.join();
  EXPECT_EQ(woken.load(), after);
}

}  // namespace
}  // namespace posd::devices
