#include "service/engine/event_broadcaster.h"

#include "gtest/gtest.h"

namespace posd::engine {
namespace {

class RecordingListener final : public EventListener {
 public:
  void OnNewHead(uint64_t head) override { heads.push_back(head); }
  void OnLive(const posd::v1::Event& event) override { live.push_back(event); }
  void OnClose() override { closed = true; }
  std::vector<uint64_t> heads;
  std::vector<posd::v1::Event> live;
  bool closed = false;
};

std::vector<posd::v1::Event> Events(uint64_t first, uint64_t last) {
  std::vector<posd::v1::Event> events;
  for (uint64_t s = first; s <= last; ++s) {
    events.emplace_back();
    events.back().set_sequence(s);
  }
  return events;
}

TEST(EventBroadcasterTest, FansOutHeadsAndLiveEvents) {
  EventBroadcaster broadcaster;
  broadcaster.SetHead(10);
  RecordingListener one, two;
  ASSERT_TRUE(broadcaster.Subscribe(&one));
  ASSERT_TRUE(broadcaster.Subscribe(&two));
  broadcaster.PublishCommitted(Events(11, 13));
  posd::v1::Event progress;
  progress.set_kind(posd::v1::EVENT_KIND_PAYMENT_PROGRESS);
  broadcaster.PublishLive(progress);
  for (auto* listener : {&one, &two}) {
    EXPECT_EQ(listener->heads, std::vector<uint64_t>{13});
    ASSERT_EQ(listener->live.size(), 1u);
    EXPECT_EQ(listener->live[0].sequence(), 13u);
    EXPECT_FALSE(listener->live[0].durable());
  }
  broadcaster.Unsubscribe(&two);
  broadcaster.PublishCommitted(Events(14, 14));
  EXPECT_EQ(one.heads.size(), 2u);
  EXPECT_EQ(two.heads.size(), 1u);
}

TEST(EventBroadcasterTest, FetchServesTheRingOrSendsToTheDatabase) {
  EventBroadcaster broadcaster(/*ring_capacity=*/4);
  broadcaster.SetHead(0);
  broadcaster.PublishCommitted(Events(1, 6));  // the ring keeps 3..6
  std::vector<posd::v1::Event> out;
  EXPECT_FALSE(broadcaster.Fetch(1, 10, out));  // 2 is gone: read the database
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(broadcaster.Fetch(2, 10, out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out.front().sequence(), 3u);
  out.clear();
  EXPECT_TRUE(broadcaster.Fetch(6, 10, out));  // caught up
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(broadcaster.Fetch(4, 1, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].sequence(), 5u);
}

TEST(EventBroadcasterTest, ShutdownClosesEveryListenerAndRefusesNewOnes) {
  EventBroadcaster broadcaster;
  RecordingListener listener, late;
  ASSERT_TRUE(broadcaster.Subscribe(&listener));
  broadcaster.Shutdown();
  EXPECT_TRUE(listener.closed);
  EXPECT_FALSE(broadcaster.Subscribe(&late));
}

}  // namespace
}  // namespace posd::engine
