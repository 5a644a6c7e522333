// posd's end of a WebSocket terminal link: a channel::MessageTransport that
// connects to the terminal's WebSocket server (ws:// or wss://), keeps one
// connection, carries one envelope per binary message, and reconnects with
// backoff for ever until Close (docs/protocol.md, "WebSocket binding").
//
// Up means: TCP connected, TLS verified (when enabled), HTTP upgrade done
// with the posd.link.v1 subprotocol. Down (kStreamFailed) when the peer
// closes, the connection breaks, a message exceeds the maximum size, or the
// peer is dead (no message, ping or pong for dead_peer_timeout). Each up
// period is one TCP connection, so nothing sent in one reaches the peer in
// the next (message_transport.h).
//
// The address can change while the transport runs (SetEndpoint): a
// discovery source that sees the terminal announce a new address points the
// transport there; a pending attempt or backoff is abandoned and the new
// address tried at once.
//
// Threading: confined to the io_context's thread (message_transport.h); the
// connect observer runs there too. The io_context must outlive the
// transport. Destroying it closes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/channel/message_transport.h"
#include "service/websocket/websocket_options.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::websocket {

struct WebSocketClientOptions {
  // An empty host: no address yet; the transport waits, down, until
  // SetEndpoint gives one (a terminal known only by its announcements).
  Endpoint endpoint;
  ClientTls tls;
  WebSocketOptions websocket;
  // Delay before the next attempt after a failed one or a lost connection:
  // doubles from initial to max; reset by a successful handshake.
  Duration reconnect_initial = std::chrono::milliseconds(100);
  Duration reconnect_max = std::chrono::seconds(2);
  // Shown in logs and description(); empty: "websocket <url>".
  std::string description;
};

// How far one connection attempt got, for the device's state and reason.
enum class ConnectStage : uint8_t {
  kResolve,    // name resolution failed
  kConnect,    // TCP connect refused or timed out
  kTls,        // TLS handshake or certificate verification failed
  kUpgrade,    // HTTP upgrade refused, wrong subprotocol, or timed out
  kConnected,  // up (status OK)
};
std::string_view ConnectStageName(ConnectStage stage);

struct ConnectReport {
  ConnectStage stage = ConnectStage::kConnected;
  absl::Status status;  // OK for kConnected; UNAVAILABLE, DEADLINE_EXCEEDED, ...
  Endpoint endpoint;
};
// Told of every attempt's outcome, before OnTransportUp for a success.
using ConnectObserver = std::function<void(const ConnectReport& report)>;

class WebSocketClientTransport final : public channel::MessageTransport {
 public:
  // INVALID_ARGUMENT for bad options or endpoint; NOT_FOUND / INVALID_ARGUMENT
  // when TLS is enabled and the CA file cannot be loaded. Nothing connects
  // before Start.
  static absl::StatusOr<std::unique_ptr<WebSocketClientTransport>> Create(
      boost::asio::io_context& io, WebSocketClientOptions options, ConnectObserver observer = {});

  ~WebSocketClientTransport() override;
  WebSocketClientTransport(const WebSocketClientTransport&) = delete;
  WebSocketClientTransport& operator=(const WebSocketClientTransport&) = delete;

  void Start(channel::MessageTransportHandler* handler) override;
  absl::Status Send(std::span<const uint8_t> message) override;
  void Reset(std::string_view why) override;
  void Close() override;
  bool is_up() const override;
  std::string_view description() const override { return description_; }

  // When SetEndpoint's new address is tried while the transport is down.
  enum class Retry : uint8_t {
    kNow,          // abandon the current attempt or backoff and connect at once
    kNextAttempt,  // keep the backoff; the next attempt goes there
  };
  // Points the transport at a new address. While up, the connection is
  // kept (call Reset to drop it); otherwise see `retry`. INVALID_ARGUMENT
  // for a bad endpoint.
  absl::Status SetEndpoint(Endpoint endpoint, Retry retry = Retry::kNow);
  const Endpoint& endpoint() const { return options_.endpoint; }
  // Connection attempts so far (successful or not).
  uint64_t attempts() const { return attempts_; }

 private:
  struct Impl;
  explicit WebSocketClientTransport(std::unique_ptr<Impl> impl, WebSocketClientOptions options,
                                    ConnectObserver observer);

  void Connect();
  void OnAttemptDone(uint64_t attempt, ConnectStage stage, const absl::Status& status);
  void OnConnectionClosed(uint64_t attempt, const absl::Status& why);
  void ScheduleReconnect();
  void AbandonAttempt();
  void PostDown(channel::TransportDownReason reason, std::string detail);
  void UpdateDescription();

  std::unique_ptr<Impl> impl_;
  WebSocketClientOptions options_;
  ConnectObserver observer_;
  std::string description_;
  channel::MessageTransportHandler* handler_ = nullptr;
  uint64_t attempt_ = 0;  // id of the current attempt or connection
  uint64_t attempts_ = 0;
  bool up_ = false;
  bool closed_ = false;
  Duration reconnect_delay_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace posd::websocket
