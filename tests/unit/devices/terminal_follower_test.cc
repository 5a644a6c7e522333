// The policy that follows a moving WebSocket terminal: announcements while
// linked are remembered, while down tried at once; failures rotate through
// the recent candidates and the configured address; a wrong terminal is
// skipped until announced again.
#include "service/devices/terminal_follower.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace posd::devices {
namespace {

using Move = TerminalFollower::Move;
using websocket::Endpoint;
using ::testing::ElementsAre;
using ::testing::Optional;

Endpoint E(std::string host, uint16_t port) { return Endpoint{.host = std::move(host), .port = port, .path = "/"}; }

TEST(TerminalFollowerTest, StartsAtTheConfiguredAddressOrWaits) {
  EXPECT_THAT(TerminalFollower(E("10.0.0.5", 8080)).Initial(), Optional(E("10.0.0.5", 8080)));
  EXPECT_EQ(TerminalFollower(Endpoint{.host = "", .port = 0, .path = "/"}).Initial(), std::nullopt);
}

TEST(TerminalFollowerTest, AnnouncementWhileLinkedIsRememberedNotFollowed) {
  TerminalFollower follower(E("10.0.0.5", 8080));
  follower.OnLinked(E("10.0.0.5", 8080));
  EXPECT_EQ(follower.OnAnnounced(E("10.0.0.9", 8081), /*linked=*/true), std::nullopt);
  EXPECT_THAT(follower.Candidates(), ElementsAre(E("10.0.0.9", 8081), E("10.0.0.5", 8080)));
  // When that link goes, the announcement is where to look first.
  EXPECT_THAT(follower.OnLinkLost(E("10.0.0.5", 8080)),
              Optional(Move{.endpoint = E("10.0.0.9", 8081), .now = true}));
}

TEST(TerminalFollowerTest, AnnouncementWhileDownIsTriedAtOnce) {
  TerminalFollower follower(E("10.0.0.5", 8080));
  EXPECT_THAT(follower.OnAnnounced(E("10.0.0.9", 8081), /*linked=*/false),
              Optional(Move{.endpoint = E("10.0.0.9", 8081), .now = true}));
}

TEST(TerminalFollowerTest, LinkLostWhereTheNewestAnnouncementPointsStaysPut) {
  TerminalFollower follower(E("10.0.0.5", 8080));
  follower.OnAnnounced(E("10.0.0.9", 8081), true);
  EXPECT_EQ(follower.OnLinkLost(E("10.0.0.9", 8081)), std::nullopt);
}

TEST(TerminalFollowerTest, AStaleAnnouncementCostsOneAttempt) {
  TerminalFollower follower(E("10.0.0.5", 8080));
  follower.OnAnnounced(E("10.0.0.9", 8081), false);  // where it really is
  follower.OnLinked(E("10.0.0.9", 8081));
  // A stale announcement of the old place arrives; the link drops.
  follower.OnAnnounced(E("10.0.0.5", 8080), true);
  EXPECT_THAT(follower.OnLinkLost(E("10.0.0.9", 8081)),
              Optional(Move{.endpoint = E("10.0.0.5", 8080), .now = true}));
  // Nothing there: back to the other recent one.
  EXPECT_THAT(follower.OnAttemptFailed(E("10.0.0.5", 8080)),
              Optional(Move{.endpoint = E("10.0.0.9", 8081), .now = false}));
}

TEST(TerminalFollowerTest, FailuresRotateThroughEveryCandidate) {
  TerminalFollower follower(E("10.0.0.1", 80));
  follower.OnAnnounced(E("10.0.0.2", 80), false);
  follower.OnAnnounced(E("10.0.0.3", 80), false);
  EXPECT_THAT(follower.Candidates(),
              ElementsAre(E("10.0.0.3", 80), E("10.0.0.2", 80), E("10.0.0.1", 80)));
  Endpoint at = E("10.0.0.3", 80);
  std::vector<Endpoint> tried;
  for (int i = 0; i < 3; ++i) {
    auto move = follower.OnAttemptFailed(at);
    ASSERT_TRUE(move.has_value());
    EXPECT_FALSE(move->now);
    at = move->endpoint;
    tried.push_back(at);
  }
  EXPECT_THAT(tried, ElementsAre(E("10.0.0.2", 80), E("10.0.0.1", 80), E("10.0.0.3", 80)));
}

TEST(TerminalFollowerTest, OnlyOneCandidateMeansTheTransportRetriesThere) {
  TerminalFollower follower(E("10.0.0.1", 80));
  EXPECT_EQ(follower.OnAttemptFailed(E("10.0.0.1", 80)), std::nullopt);
}

TEST(TerminalFollowerTest, RemembersOnlyTheFewNewestAnnouncements) {
  TerminalFollower follower(E("10.0.0.1", 80));
  for (uint16_t port = 1; port <= 6; ++port) follower.OnAnnounced(E("10.0.0.2", port), false);
  EXPECT_THAT(follower.Candidates(),
              ElementsAre(E("10.0.0.2", 6), E("10.0.0.2", 5), E("10.0.0.2", 4), E("10.0.0.2", 3),
                          E("10.0.0.1", 80)));
  // The same place again moves to the front, no duplicate.
  follower.OnAnnounced(E("10.0.0.2", 4), false);
  EXPECT_THAT(follower.Candidates(),
              ElementsAre(E("10.0.0.2", 4), E("10.0.0.2", 6), E("10.0.0.2", 5), E("10.0.0.2", 3),
                          E("10.0.0.1", 80)));
}

TEST(TerminalFollowerTest, AWrongTerminalIsSkippedUntilAnnouncedAgain) {
  TerminalFollower follower(E("10.0.0.1", 80));
  follower.OnAnnounced(E("10.0.0.2", 80), false);
  // Another terminal answers at the announced place: go to the configured one.
  EXPECT_THAT(follower.OnWrongTerminal(E("10.0.0.2", 80)),
              Optional(Move{.endpoint = E("10.0.0.1", 80), .now = false}));
  EXPECT_TRUE(follower.IsRefused(E("10.0.0.2", 80)));
  // Failing there does not lead back to the wrong terminal...
  EXPECT_EQ(follower.OnAttemptFailed(E("10.0.0.1", 80)), std::nullopt);
  // ...nor does losing a link.
  follower.OnLinked(E("10.0.0.1", 80));
  EXPECT_EQ(follower.OnLinkLost(E("10.0.0.1", 80)), std::nullopt);
  // A new announcement of that place is believed again.
  EXPECT_THAT(follower.OnAnnounced(E("10.0.0.2", 80), false),
              Optional(Move{.endpoint = E("10.0.0.2", 80), .now = true}));
  EXPECT_FALSE(follower.IsRefused(E("10.0.0.2", 80)));
}

TEST(TerminalFollowerTest, AWrongTerminalEverywhereKeepsTryingWithBackoff) {
  TerminalFollower follower(E("10.0.0.1", 80));
  EXPECT_EQ(follower.OnWrongTerminal(E("10.0.0.1", 80)), std::nullopt);
  follower.OnAnnounced(E("10.0.0.2", 80), false);
  EXPECT_EQ(follower.OnWrongTerminal(E("10.0.0.2", 80)), std::nullopt);
}

TEST(TerminalFollowerTest, DiscoveryOnlyDeviceWaitsThenFollows) {
  TerminalFollower follower(Endpoint{.host = "", .port = 0, .path = "/"});
  EXPECT_TRUE(follower.Candidates().empty());
  EXPECT_THAT(follower.OnAnnounced(E("10.0.0.2", 80), false),
              Optional(Move{.endpoint = E("10.0.0.2", 80), .now = true}));
  EXPECT_THAT(follower.Initial(), Optional(E("10.0.0.2", 80)));
}

}  // namespace
}  // namespace posd::devices
