// The terminal's end of a WebSocket terminal link (used by posd-termsim): a
// channel::MessageTransport that listens on a TCP port, accepts WebSocket
// upgrades on one path with the posd.link.v1 subprotocol (ws:// or wss://),
// and carries one envelope per binary message (docs/protocol.md, "WebSocket
// binding").
//
// One controller at a time: a new connection replaces the current one (the
// old is dropped and reported down first), because a posd that reconnects
// has given up on its old connection even if this end has not noticed yet.
// Up while a connection is established; down when it closes, breaks,
// carries an oversized message or its peer is dead (no message, ping or pong
// for dead_peer_timeout).
//
// Threading: confined to the io_context's thread (message_transport.h). The
// io_context must outlive the transport. Destroying it closes it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/channel/message_transport.h"
#include "service/websocket/websocket_options.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::websocket {

struct WebSocketServerOptions {
  // Address to listen on (an IP address) and port; 0 picks a free port
  // (local_port() tells which).
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  // The only HTTP path upgraded; others get 404.
  std::string path = std::string(kDefaultPath);
  ServerTls tls;
  WebSocketOptions websocket;
  // Shown in logs and description(); empty: "websocket server <url>".
  std::string description;
};

class WebSocketServerTransport final : public channel::MessageTransport {
 public:
  // Binds and listens at once, so the port is known before Start.
  // INVALID_ARGUMENT for bad options or an unloadable certificate or key;
  // UNAVAILABLE when the address cannot be bound (e.g. the port is in use).
  static absl::StatusOr<std::unique_ptr<WebSocketServerTransport>> Create(
      boost::asio::io_context& io, WebSocketServerOptions options);

  ~WebSocketServerTransport() override;
  WebSocketServerTransport(const WebSocketServerTransport&) = delete;
  WebSocketServerTransport& operator=(const WebSocketServerTransport&) = delete;

  // Starts accepting connections.
  void Start(channel::MessageTransportHandler* handler) override;
  absl::Status Send(std::span<const uint8_t> message) override;
  // Drops the current connection (if any) and keeps listening.
  void Reset(std::string_view why) override;
  // Stops listening and drops every connection.
  void Close() override;
  bool is_up() const override;
  std::string_view description() const override { return description_; }

  uint16_t local_port() const { return port_; }

  // Sends `bytes` as one binary message that need not be an envelope (the
  // simulator's "garbage" fault). Same errors as Send.
  absl::Status SendRaw(std::span<const uint8_t> bytes) { return Send(bytes); }

 private:
  struct Impl;
  WebSocketServerTransport(std::unique_ptr<Impl> impl, WebSocketServerOptions options,
                           uint16_t port);

  void Accept();
  void OnHandshakeDone(uint64_t id, const absl::Status& status);
  void OnConnectionClosed(uint64_t id, const absl::Status& why);
  void DeliverPendingDown();

  std::unique_ptr<Impl> impl_;
  WebSocketServerOptions options_;
  uint16_t port_ = 0;
  std::string description_;
  channel::MessageTransportHandler* handler_ = nullptr;
  uint64_t next_id_ = 1;
  uint64_t current_ = 0;  // id of the connection that is up, 0 if none
  bool down_pending_ = false;  // Reset posted OnTransportDown, not yet delivered
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace posd::websocket
