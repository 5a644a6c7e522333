// BeaconSender and BeaconListener on 127.0.0.1: events, validation, expiry.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/discovery/beacon_listener.h"
#include "service/discovery/beacon_sender.h"
#include "tests/support/status_matchers.h"

namespace posd::discovery {
namespace {

using namespace std::chrono_literals;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

class RecordingSink final : public DiscoverySink {
 public:
  void OnDiscoveryEvent(const DiscoveryEvent& event) override { events.push_back(event); }
  std::vector<DiscoveryEvent> events;
};

bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              Clock::duration timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (!done() && Clock::now() < deadline) {
    io.restart();
    io.run_for(5ms);
  }
  return done();
}

class BeaconListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto listener = BeaconListener::Create(io_, {.address = "127.0.0.1", .port = 0}, sink_);
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = *std::move(listener);
    listener_->Start();
  }

  std::unique_ptr<BeaconSender> Sender(uint16_t ws_port, std::chrono::milliseconds interval,
                                       std::string id = "bar-1") {
    BeaconSenderOptions options{.host = "127.0.0.1",
                                .port = listener_->local_port(),
                                .interval = interval,
                                .beacon = {.terminal_id = std::move(id),
                                           .port = ws_port,
                                           .protocol_version = 1}};
    auto sender = BeaconSender::Create(io_, options);
    EXPECT_TRUE(sender.ok()) << sender.status();
    return sender.ok() ? *std::move(sender) : nullptr;
  }

  void SendRaw(const std::string& payload) {
    boost::asio::ip::udp::socket socket(io_, boost::asio::ip::udp::v4());
    socket.send_to(boost::asio::buffer(payload),
                   boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  listener_->local_port()));
  }

  boost::asio::io_context io_;
  RecordingSink sink_;
  std::unique_ptr<BeaconListener> listener_;
};

TEST_F(BeaconListenerTest, ATerminalAppearsMovesAndVanishes) {
  auto sender = Sender(8080, 50ms);
  sender->Start();
  ASSERT_TRUE(RunUntil(io_, [&] { return !sink_.events.empty(); }));
  EXPECT_EQ(sink_.events[0].type, DiscoveryEventType::kAppeared);
  const Announcement& seen = sink_.events[0].announcement;
  EXPECT_EQ(seen.terminal_id, "bar-1");
  EXPECT_EQ(seen.address, "127.0.0.1");
  EXPECT_EQ(seen.port, 8080);
  EXPECT_EQ(seen.protocol_version, 1u);
  EXPECT_EQ(seen.source, DiscoverySource::kBeacon);

  // Repeats of the same announcement are no news.
  ASSERT_TRUE(RunUntil(io_, [&] { return listener_->counters().accepted >= 4; }));
  EXPECT_EQ(sink_.events.size(), 1u);

  // The terminal restarts its server on another port.
  sender->SetBeacon({.terminal_id = "bar-1", .port = 9090, .protocol_version = 1});
  ASSERT_TRUE(RunUntil(io_, [&] { return sink_.events.size() == 2; }));
  EXPECT_EQ(sink_.events[1].type, DiscoveryEventType::kUpdated);
  EXPECT_EQ(sink_.events[1].announcement.port, 9090);
  ASSERT_EQ(listener_->Current().size(), 1u);
  EXPECT_EQ(listener_->Current()[0].port, 9090);

  // It falls silent: gone after three of its intervals (150 ms).
  sender->Stop();
  const auto stopped = Clock::now();
  ASSERT_TRUE(RunUntil(io_, [&] { return sink_.events.size() == 3; }));
  EXPECT_EQ(sink_.events[2].type, DiscoveryEventType::kVanished);
  EXPECT_EQ(sink_.events[2].announcement.terminal_id, "bar-1");
  EXPECT_LT(Clock::now() - stopped, 1s);
  EXPECT_TRUE(listener_->Current().empty());
  EXPECT_EQ(listener_->counters().malformed, 0u);
}

TEST_F(BeaconListenerTest, MalformedDatagramsAreIgnoredAndCounted) {
  SendRaw("hello");
  SendRaw("POSTERM/1 id=bar-1 port=0 proto=1");
  SendRaw(std::string(1000, 'x'));
  ASSERT_TRUE(RunUntil(io_, [&] { return listener_->counters().received == 3; }));
  EXPECT_EQ(listener_->counters().malformed, 3u);
  EXPECT_EQ(listener_->counters().accepted, 0u);
  EXPECT_THAT(listener_->counters().last_error, HasSubstr("longer than 512"));
  EXPECT_TRUE(sink_.events.empty());
  // A good one after the bad ones is heard.
  SendRaw("POSTERM/1 id=bar-1 port=81 proto=1");
  ASSERT_TRUE(RunUntil(io_, [&] { return sink_.events.size() == 1; }));
  EXPECT_EQ(sink_.events[0].announcement.port, 81);
}

TEST_F(BeaconListenerTest, TwoTerminalsAreTrackedApart) {
  auto first = Sender(8001, 50ms, "bar-1");
  auto second = Sender(8002, 50ms, "bar-2");
  first->Start();
  second->Start();
  ASSERT_TRUE(RunUntil(io_, [&] { return sink_.events.size() == 2; }));
  EXPECT_EQ(listener_->Current().size(), 2u);
  EXPECT_EQ(sink_.events[0].type, DiscoveryEventType::kAppeared);
  EXPECT_EQ(sink_.events[1].type, DiscoveryEventType::kAppeared);
  EXPECT_NE(sink_.events[0].announcement.terminal_id, sink_.events[1].announcement.terminal_id);
}

TEST(BeaconSenderTest, RefusesBadTargets) {
  boost::asio::io_context io;
  EXPECT_THAT(BeaconSender::Create(io, {.host = "terminal.local", .port = 9, .interval = 1s, .beacon = {}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an IP address")));
  EXPECT_THAT(BeaconSender::Create(io, {.host = "127.0.0.1", .port = 0, .interval = 1s, .beacon = {}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The beacon itself must be valid (an upper-case id is not a terminal id).
  EXPECT_THAT(BeaconSender::Create(io, {.host = "127.0.0.1",
                                        .port = 9,
                                        .beacon = {.terminal_id = "Bad", .port = 1,
                                                   .protocol_version = 1}})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a terminal id")));
}

}  // namespace
}  // namespace posd::discovery
