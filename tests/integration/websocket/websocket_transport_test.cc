// WebSocketClientTransport (posd) against WebSocketServerTransport (the
// terminal) and against a misbehaving raw peer, over 127.0.0.1 only.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/channel/envelope_codec.h"
#include "service/websocket/websocket_client_transport.h"
#include "service/websocket/websocket_server_transport.h"
#include "tests/integration/websocket/raw_websocket_peer.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd::websocket {
namespace {

using namespace std::chrono_literals;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// Records what a transport reports, with when.
class Recorder final : public channel::MessageTransportHandler {
 public:
  void OnTransportUp() override {
    ++ups;
    up = true;
  }
  void OnTransportDown(channel::TransportDownReason reason, std::string_view detail) override {
    ++downs;
    up = false;
    last_reason = reason;
    last_detail = std::string(detail);
    down_at = Clock::now();
  }
  void OnMessage(std::span<const uint8_t> message) override {
    messages.emplace_back(message.begin(), message.end());
  }

  int ups = 0;
  int downs = 0;
  bool up = false;
  channel::TransportDownReason last_reason = channel::TransportDownReason::kNone;
  std::string last_detail;
  Clock::time_point down_at{};
  std::vector<std::vector<uint8_t>> messages;
};

// Runs the loop until `done` holds or `timeout` passes; returns done().
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              Clock::duration timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (!done() && Clock::now() < deadline) {
    io.restart();
    io.run_for(5ms);
  }
  return done();
}

std::vector<uint8_t> Bytes(size_t n, uint8_t value = 0x42) { return std::vector<uint8_t>(n, value); }

std::vector<uint8_t> SaleEnvelope() {
  link::v1::Envelope envelope;
  envelope.set_message_id(7);
  envelope.mutable_sale()->set_transaction_id("pay_ws_1");
  envelope.mutable_sale()->set_amount_minor(1250);
  envelope.mutable_sale()->set_currency_code("EUR");
  return channel::EncodeEnvelope(envelope);
}

WebSocketClientOptions ClientTo(uint16_t port, std::string path = "/") {
  WebSocketClientOptions options;
  options.endpoint = Endpoint{.host = "127.0.0.1", .port = port, .path = std::move(path)};
  return options;
}

class WebSocketTransportTest : public ::testing::Test {
 protected:
  std::unique_ptr<WebSocketServerTransport> Serve(WebSocketServerOptions options = {}) {
    auto server = WebSocketServerTransport::Create(io_, std::move(options));
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    (*server)->Start(&server_events_);
    return *std::move(server);
  }

  std::unique_ptr<WebSocketClientTransport> Connect(WebSocketClientOptions options) {
    auto client = WebSocketClientTransport::Create(
        io_, std::move(options), [this](const ConnectReport& report) { reports_.push_back(report); });
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    (*client)->Start(&client_events_);
    return *std::move(client);
  }

  boost::asio::io_context io_;
  Recorder server_events_;
  Recorder client_events_;
  std::vector<ConnectReport> reports_;
};

TEST_F(WebSocketTransportTest, DefaultsDetectADeadPeerWithinFiveSeconds) {
  const WebSocketOptions defaults;
  POSD_EXPECT_OK(ValidateWebSocketOptions(defaults));
  EXPECT_LE(defaults.dead_peer_timeout, 5s);
  EXPECT_LT(defaults.ping_interval, defaults.dead_peer_timeout);
  WebSocketOptions bad;
  bad.max_message_size = kMaxMessageSizeLimit + 1;
  EXPECT_THAT(ValidateWebSocketOptions(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_message_size")));
  bad = {};
  bad.dead_peer_timeout = bad.ping_interval;
  EXPECT_THAT(ValidateWebSocketOptions(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dead_peer_timeout")));
}

TEST_F(WebSocketTransportTest, ParsesHostAndPort) {
  auto v4 = ParseHostPort("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_EQ(v4->path, "/");
  auto v6 = ParseHostPort("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(EndpointUrl(Endpoint{.host = "::1", .port = 9, .path = "/t"}, true), "wss://[::1]:9/t");
  EXPECT_THAT(ParseHostPort("127.0.0.1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHostPort("h:70000"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHostPort(":80"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(WebSocketTransportTest, EnvelopesRoundTripOneMessageEach) {
  auto server = Serve();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->local_port(), 0);
  auto client = Connect(ClientTo(server->local_port()));
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Send(SaleEnvelope()), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.up && server_events_.up; }));
  ASSERT_FALSE(reports_.empty());
  EXPECT_EQ(reports_.back().stage, ConnectStage::kConnected);
  EXPECT_EQ(client->description(),
            "websocket ws://127.0.0.1:" + std::to_string(server->local_port()) + "/");

  POSD_ASSERT_OK(client->Send(SaleEnvelope()));
  POSD_ASSERT_OK(client->Send(Bytes(1)));
  ASSERT_TRUE(RunUntil(io_, [&] { return server_events_.messages.size() == 2; }));
  auto decoded = channel::DecodeEnvelope(server_events_.messages[0]);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->sale().transaction_id(), "pay_ws_1");
  EXPECT_EQ(server_events_.messages[1], Bytes(1));

  POSD_ASSERT_OK(server->Send(Bytes(kDefaultMaxMessageSize, 0x07)));
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.messages.size() == 1; }));
  EXPECT_EQ(client_events_.messages[0], Bytes(kDefaultMaxMessageSize, 0x07));
  EXPECT_EQ(client_events_.downs, 0);
  EXPECT_EQ(server_events_.downs, 0);
}

TEST_F(WebSocketTransportTest, OversizedMessagesAreRefusedInBothDirections) {
  WebSocketServerOptions server_options;
  server_options.websocket.max_message_size = 100;
  auto server = Serve(server_options);
  ASSERT_NE(server, nullptr);
  WebSocketClientOptions client_options = ClientTo(server->local_port());
  client_options.websocket.max_message_size = 200;
  auto client = Connect(client_options);
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.up && server_events_.up; }));

  // Outbound: refused by Send, nothing goes out, the link stays up.
  EXPECT_THAT(client->Send(Bytes(201)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceeds the maximum of 200")));
  EXPECT_THAT(server->Send(Bytes(101)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceeds the maximum of 100")));
  EXPECT_TRUE(client->is_up());

  // Inbound: 150 bytes are fine for the client's Send but too big for the
  // server, which drops the connection rather than read it.
  POSD_ASSERT_OK(client->Send(Bytes(150)));
  ASSERT_TRUE(RunUntil(io_, [&] { return server_events_.downs == 1 && client_events_.downs == 1; }));
  EXPECT_TRUE(server_events_.messages.empty());
  EXPECT_THAT(server_events_.last_detail, HasSubstr("larger than the maximum of 100 bytes"));
  EXPECT_EQ(client_events_.last_reason, channel::TransportDownReason::kStreamFailed);
  EXPECT_THAT(client_events_.last_detail, HasSubstr("1009"));  // close code "message too big"
}

TEST_F(WebSocketTransportTest, ADeadPeerIsDetectedByPingTimeoutWithinTheConfiguredTime) {
  testing::RawWebSocketPeer silent(testing::RawWebSocketPeer::Behaviour::kFallSilent);
  WebSocketClientOptions options = ClientTo(silent.port());
  options.websocket.ping_interval = 250ms;
  options.websocket.dead_peer_timeout = 1500ms;
  auto client = Connect(options);
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.up; }));
  const auto up_at = Clock::now();  // the last thing heard: the upgrade
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.downs == 1; }, 5s));
  const auto detected = std::chrono::duration_cast<std::chrono::milliseconds>(
      client_events_.down_at - up_at);
  std::printf("dead peer detected after %lld ms (timeout 1500 ms)\n",
              static_cast<long long>(detected.count()));
  EXPECT_GE(detected, 1400ms);
  EXPECT_LE(detected, 1800ms);
  EXPECT_THAT(client_events_.last_detail, HasSubstr("dead peer"));
  EXPECT_EQ(client_events_.last_reason, channel::TransportDownReason::kStreamFailed);
}

TEST_F(WebSocketTransportTest, AServerThatDiesMidMessageDeliversNothingOfIt) {
  testing::RawWebSocketPeer peer(testing::RawWebSocketPeer::Behaviour::kCloseMidMessage);
  auto client = Connect(ClientTo(peer.port()));
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.downs == 1; }));
  EXPECT_EQ(client_events_.ups, 1);
  EXPECT_TRUE(client_events_.messages.empty());
  EXPECT_THAT(client_events_.last_detail, HasSubstr("connection lost"));
  EXPECT_FALSE(client->is_up());
  EXPECT_THAT(client->Send(Bytes(1)), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(WebSocketTransportTest, AWrongSubprotocolOrPathIsRefusedAtTheUpgrade) {
  testing::RawWebSocketPeer peer(testing::RawWebSocketPeer::Behaviour::kWrongSubprotocol);
  auto client = Connect(ClientTo(peer.port()));
  ASSERT_TRUE(RunUntil(io_, [&] { return !reports_.empty(); }));
  EXPECT_EQ(reports_[0].stage, ConnectStage::kUpgrade);
  EXPECT_THAT(reports_[0].status.message(), HasSubstr("did not accept subprotocol posd.link.v1"));
  client->Close();
  reports_.clear();

  auto server = Serve();
  auto wrong_path = Connect(ClientTo(server->local_port(), "/other"));
  ASSERT_TRUE(RunUntil(io_, [&] { return !reports_.empty(); }));
  EXPECT_EQ(reports_[0].stage, ConnectStage::kUpgrade);
  EXPECT_THAT(reports_[0].status.message(), HasSubstr("HTTP 404"));
  EXPECT_EQ(client_events_.ups, 0);
  EXPECT_EQ(server_events_.ups, 0);
}

TEST_F(WebSocketTransportTest, ConnectFailuresAreReportedAndRetriedWithBackoff) {
  uint16_t port = 0;
  {
    auto probe = Serve();
    port = probe->local_port();
  }  // closed: nobody listens there now
  auto client = Connect(ClientTo(port));
  ASSERT_TRUE(RunUntil(io_, [&] { return reports_.size() >= 3; }));
  EXPECT_EQ(reports_[0].stage, ConnectStage::kConnect);
  EXPECT_THAT(reports_[0].status, StatusIs(absl::StatusCode::kUnavailable));
  // A terminal appearing on that port later is found by the retries.
  WebSocketServerOptions options;
  options.port = port;
  auto server = Serve(options);
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.up; }));
  EXPECT_GE(client->attempts(), 3u);
}

TEST_F(WebSocketTransportTest, SetEndpointFollowsATerminalThatMoved) {
  auto first = Serve();
  auto client = Connect(ClientTo(first->local_port()));
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.up; }));
  first.reset();  // the terminal goes away...
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.downs == 1; }));

  Recorder moved_events;
  auto moved = WebSocketServerTransport::Create(io_, {});  // ...and shows up on another port
  ASSERT_TRUE(moved.ok());
  (*moved)->Start(&moved_events);
  const auto told = Clock::now();
  POSD_ASSERT_OK(client->SetEndpoint(
      Endpoint{.host = "127.0.0.1", .port = (*moved)->local_port(), .path = "/"}));
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.up && moved_events.up; }));
  EXPECT_LT(Clock::now() - told, 500ms);  // at once, not after the backoff
  EXPECT_EQ(client->endpoint().port, (*moved)->local_port());
  EXPECT_THAT(client->SetEndpoint(Endpoint{.host = "", .port = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(WebSocketTransportTest, ANewControllerConnectionReplacesTheOldOne) {
  auto server = Serve();
  auto first = Connect(ClientTo(server->local_port()));
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.up && server_events_.ups == 1; }));
  Recorder second_events;
  auto second = WebSocketClientTransport::Create(io_, ClientTo(server->local_port()));
  ASSERT_TRUE(second.ok());
  (*second)->Start(&second_events);
  ASSERT_TRUE(RunUntil(io_, [&] {
    return second_events.up && server_events_.ups == 2 && client_events_.downs == 1;
  }));
  first->Close();  // or it would reconnect and take the terminal back
  EXPECT_EQ(server_events_.downs, 1);
  EXPECT_THAT(server_events_.last_detail, HasSubstr("replaced"));
  POSD_ASSERT_OK((*second)->Send(Bytes(3)));
  ASSERT_TRUE(RunUntil(io_, [&] { return server_events_.messages.size() == 1; }));
  // Reset drops the connection and reports down later, not inside Reset.
  server->Reset("test");
  EXPECT_EQ(server_events_.downs, 1);
  ASSERT_TRUE(RunUntil(io_, [&] { return server_events_.downs == 2; }));
}

// TLS with a self-signed certificate made now by the openssl CLI.
class WebSocketTlsTest : public WebSocketTransportTest {
 protected:
  void SetUp() override {
    for (const std::string name : {"terminal", "stranger"}) {
      const auto made = ::posd::testing::RunCommand(
          {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes", "-days", "1", "-subj", "/CN=" + name, "-addext",
           "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
           dir_.File(name + ".key").string(), "-out", dir_.File(name + ".pem").string()},
          30s);
      ASSERT_EQ(made.exit_code, 0) << made.err;
    }
  }

  WebSocketServerOptions TlsServer() {
    WebSocketServerOptions options;
    options.tls = {.enabled = true,
                   .certificate_file = dir_.File("terminal.pem").string(),
                   .private_key_file = dir_.File("terminal.key").string()};
    return options;
  }

  ::posd::testing::TempDir dir_;
};

TEST_F(WebSocketTlsTest, RoundTripOverTlsWithTheTerminalsCertificate) {
  auto server = Serve(TlsServer());
  ASSERT_NE(server, nullptr);
  WebSocketClientOptions options = ClientTo(server->local_port());
  options.tls = {.enabled = true, .ca_file = dir_.File("terminal.pem").string(), .server_name = ""};
  auto client = Connect(options);
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.up && server_events_.up; }));
  EXPECT_THAT(client->description(), HasSubstr("wss://127.0.0.1:"));
  POSD_ASSERT_OK(client->Send(SaleEnvelope()));
  ASSERT_TRUE(RunUntil(io_, [&] { return server_events_.messages.size() == 1; }));
  EXPECT_EQ(server_events_.messages[0], SaleEnvelope());
  POSD_ASSERT_OK(server->Send(Bytes(64)));
  ASSERT_TRUE(RunUntil(io_, [&] { return client_events_.messages.size() == 1; }));
}

TEST_F(WebSocketTlsTest, AnUntrustedOrMisnamedCertificateIsRefused) {
  auto server = Serve(TlsServer());
  WebSocketClientOptions options = ClientTo(server->local_port());
  options.tls = {.enabled = true, .ca_file = dir_.File("stranger.pem").string(), .server_name = ""};
  auto untrusted = Connect(options);
  ASSERT_TRUE(RunUntil(io_, [&] { return !reports_.empty(); }));
  EXPECT_EQ(reports_[0].stage, ConnectStage::kTls);
  EXPECT_THAT(reports_[0].status.message(), HasSubstr("certificate verify failed"));
  untrusted->Close();
  reports_.clear();

  options.tls = {.enabled = true,
                 .ca_file = dir_.File("terminal.pem").string(),
                 .server_name = "terminal.example"};
  auto misnamed = Connect(options);
  ASSERT_TRUE(RunUntil(io_, [&] { return !reports_.empty(); }));
  EXPECT_EQ(reports_[0].stage, ConnectStage::kTls);
  EXPECT_EQ(client_events_.ups, 0);

  options.tls = {.enabled = true, .ca_file = dir_.File("missing.pem").string(), .server_name = ""};
  EXPECT_THAT(WebSocketClientTransport::Create(io_, options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tls.ca_file")));
}

}  // namespace
}  // namespace posd::websocket
