// The hub that merges discovery sources: one terminal per id whatever saw
// it, the newest announcement wins, a vanish counts only when no source
// sees the terminal any more, and subscribers come and go safely.
#include "service/discovery/discovery_hub.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace posd::discovery {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Announcement At(std::string id, std::string address, uint16_t port, DiscoverySource source,
                Clock::time_point when) {
  return Announcement{.terminal_id = std::move(id),
                      .instance_name = "",
                      .address = std::move(address),
                      .port = port,
                      .path = "/",
                      .tls = false,
                      .protocol_version = 1,
                      .source = source,
                      .observed_at = when};
}

DiscoveryEvent Event(DiscoveryEventType type, Announcement announcement) {
  return DiscoveryEvent{.type = type, .announcement = std::move(announcement)};
}

struct Recorder {
  std::vector<DiscoveryEvent> events;
  DiscoveryHub::Listener listener() {
    return [this](const DiscoveryEvent& e) { events.push_back(e); };
  }
};

constexpr auto kApp = DiscoveryEventType::kAppeared;
constexpr auto kUpd = DiscoveryEventType::kUpdated;
constexpr auto kVan = DiscoveryEventType::kVanished;
constexpr auto kBeacon = DiscoverySource::kBeacon;
constexpr auto kDnsSd = DiscoverySource::kDnsSd;

TEST(DiscoveryHubTest, OneSourceAppearsMovesAndVanishes) {
  DiscoveryHub hub;
  Recorder seen;
  auto subscription = hub.Subscribe(seen.listener(), false);
  const auto t0 = Clock::now();
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kBeacon, t0)));
  hub.OnDiscoveryEvent(Event(kUpd, At("bar-1", "10.0.0.9", 8081, kBeacon, t0 + 1s)));
  hub.OnDiscoveryEvent(Event(kVan, At("bar-1", "10.0.0.9", 8081, kBeacon, t0 + 2s)));
  ASSERT_EQ(seen.events.size(), 3u);
  EXPECT_EQ(seen.events[0].type, kApp);
  EXPECT_EQ(seen.events[1].type, kUpd);
  EXPECT_EQ(seen.events[1].announcement.address, "10.0.0.9");
  EXPECT_EQ(seen.events[1].announcement.port, 8081);
  EXPECT_EQ(seen.events[2].type, kVan);
  EXPECT_TRUE(hub.Current().empty());
}

TEST(DiscoveryHubTest, TwoSourcesAreOneTerminalAndTheNewestAddressWins) {
  DiscoveryHub hub;
  Recorder seen;
  auto subscription = hub.Subscribe(seen.listener(), false);
  const auto t0 = Clock::now();
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kDnsSd, t0)));
  // The beacon sees the same place: nothing new for subscribers.
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kBeacon, t0 + 1s)));
  ASSERT_EQ(seen.events.size(), 1u);
  // The beacon hears the move first.
  hub.OnDiscoveryEvent(Event(kUpd, At("bar-1", "10.0.0.7", 8080, kBeacon, t0 + 2s)));
  ASSERT_EQ(seen.events.size(), 2u);
  EXPECT_EQ(seen.events[1].type, kUpd);
  EXPECT_EQ(seen.events[1].announcement.address, "10.0.0.7");
  // DNS-SD catches up: same place, nothing new.
  hub.OnDiscoveryEvent(Event(kUpd, At("bar-1", "10.0.0.7", 8080, kDnsSd, t0 + 3s)));
  EXPECT_EQ(seen.events.size(), 2u);
  auto current = hub.Current();
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].current.address, "10.0.0.7");
  EXPECT_THAT(current[0].sources, ::testing::UnorderedElementsAre(kDnsSd, kBeacon));
}

TEST(DiscoveryHubTest, VanishedFromOneSourceWhileTheOtherSeesItIsNotAVanish) {
  DiscoveryHub hub;
  Recorder seen;
  auto subscription = hub.Subscribe(seen.listener(), false);
  const auto t0 = Clock::now();
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kDnsSd, t0)));
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kBeacon, t0 + 1s)));
  hub.OnDiscoveryEvent(Event(kVan, At("bar-1", "10.0.0.5", 8080, kDnsSd, t0 + 2s)));
  ASSERT_EQ(seen.events.size(), 1u);
  ASSERT_EQ(hub.Current().size(), 1u);
  EXPECT_THAT(hub.Current()[0].sources, ::testing::ElementsAre(kBeacon));
  hub.OnDiscoveryEvent(Event(kVan, At("bar-1", "10.0.0.5", 8080, kBeacon, t0 + 3s)));
  ASSERT_EQ(seen.events.size(), 2u);
  EXPECT_EQ(seen.events[1].type, kVan);
}

TEST(DiscoveryHubTest, WhenTheNewestSourceLetsGoTheOtherSourcesPlaceBecomesCurrent) {
  DiscoveryHub hub;
  Recorder seen;
  auto subscription = hub.Subscribe(seen.listener(), false);
  const auto t0 = Clock::now();
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kDnsSd, t0)));
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.7", 9000, kBeacon, t0 + 1s)));
  hub.OnDiscoveryEvent(Event(kVan, At("bar-1", "10.0.0.7", 9000, kBeacon, t0 + 2s)));
  ASSERT_EQ(seen.events.size(), 3u);
  EXPECT_EQ(seen.events[2].type, kUpd);
  EXPECT_EQ(seen.events[2].announcement.address, "10.0.0.5");
  EXPECT_EQ(seen.events[2].announcement.source, kDnsSd);
}

TEST(DiscoveryHubTest, AVanishOfSomethingNeverSeenIsIgnored) {
  DiscoveryHub hub;
  Recorder seen;
  auto subscription = hub.Subscribe(seen.listener(), false);
  hub.OnDiscoveryEvent(Event(kVan, At("bar-1", "10.0.0.5", 8080, kBeacon, Clock::now())));
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kBeacon, Clock::now())));
  hub.OnDiscoveryEvent(Event(kVan, At("bar-1", "10.0.0.5", 8080, kDnsSd, Clock::now())));
  ASSERT_EQ(seen.events.size(), 1u);
  EXPECT_EQ(seen.events[0].type, kApp);
}

TEST(DiscoveryHubTest, IncludeCurrentStartsWithWhatIsVisible) {
  DiscoveryHub hub;
  const auto t0 = Clock::now();
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kBeacon, t0)));
  hub.OnDiscoveryEvent(Event(kApp, At("bar-2", "10.0.0.6", 8080, kBeacon, t0)));
  Recorder with, without;
  size_t listed_after = 0;
  auto a = hub.Subscribe(with.listener(), true, [&] { listed_after = with.events.size(); });
  auto b = hub.Subscribe(without.listener(), false, [&] { FAIL() << "not asked for"; });
  EXPECT_EQ(listed_after, 2u);
  ASSERT_EQ(with.events.size(), 2u);
  EXPECT_EQ(with.events[0].type, kApp);
  EXPECT_EQ(with.events[0].announcement.terminal_id, "bar-1");
  EXPECT_EQ(with.events[1].announcement.terminal_id, "bar-2");
  EXPECT_TRUE(without.events.empty());
  hub.OnDiscoveryEvent(Event(kUpd, At("bar-1", "10.0.0.8", 8080, kBeacon, t0 + 1s)));
  EXPECT_EQ(with.events.size(), 3u);
  EXPECT_EQ(without.events.size(), 1u);
}

TEST(DiscoveryHubTest, AnEndedSubscriptionHearsNothing) {
  DiscoveryHub hub;
  Recorder seen;
  auto subscription = hub.Subscribe(seen.listener(), false);
  subscription.reset();
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kBeacon, Clock::now())));
  EXPECT_TRUE(seen.events.empty());
}

TEST(DiscoveryHubTest, AListenerMayEndItsOwnSubscription) {
  DiscoveryHub hub;
  std::unique_ptr<DiscoveryHub::Subscription> subscription;
  int calls = 0;
  subscription = hub.Subscribe(
      [&](const DiscoveryEvent&) {
        ++calls;
        subscription.reset();
      },
      false);
  hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", 8080, kBeacon, Clock::now())));
  hub.OnDiscoveryEvent(Event(kApp, At("bar-2", "10.0.0.5", 8081, kBeacon, Clock::now())));
  EXPECT_EQ(calls, 1);
}

TEST(DiscoveryHubTest, SubscribersComeAndGoWhileEventsFlow) {
  DiscoveryHub hub;
  std::atomic<bool> stop{false};
  std::thread source([&] {
    uint16_t port = 1;
    while (!stop) {
      hub.OnDiscoveryEvent(Event(kApp, At("bar-1", "10.0.0.5", port++, kBeacon, Clock::now())));
      hub.OnDiscoveryEvent(Event(kVan, At("bar-1", "10.0.0.5", port, kBeacon, Clock::now())));
    }
  });
  for (int i = 0; i < 500; ++i) {
    std::atomic<int> heard{0};
    auto subscription = hub.Subscribe([&](const DiscoveryEvent&) { ++heard; }, i % 2 == 0);
    subscription.reset();
    const int after = heard.load();
    EXPECT_EQ(heard.load(), after);
  }
  stop = true;
  source.join();
}

TEST(DiscoveryHubTest, SourceProblemsAreListedAndCleared) {
  DiscoveryHub hub;
  hub.SetSourceProblem(kBeacon, "cannot listen for beacons on 0.0.0.0:47800: Address in use");
  EXPECT_THAT(hub.SourceProblems(),
              ::testing::ElementsAre("beacon: cannot listen for beacons on 0.0.0.0:47800: "
                                     "Address in use"));
  hub.SetSourceProblem(kBeacon, "");
  EXPECT_TRUE(hub.SourceProblems().empty());
}

}  // namespace
}  // namespace posd::discovery
