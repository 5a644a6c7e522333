// The WebSocket binding of the terminal protocol (docs/protocol.md,
// "WebSocket binding"): where a terminal listens, how posd reaches it, and
// the limits and timers both ends apply.
//
// Plain values and pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posd::websocket {

using Duration = std::chrono::steady_clock::duration;

// The subprotocol both ends name in Sec-WebSocket-Protocol.
inline constexpr std::string_view kSubprotocol = "posd.link.v1";
// The HTTP path a terminal serves when nothing else is configured.
inline constexpr std::string_view kDefaultPath = "/";
// The largest message either end accepts by default, and the largest that
// may be configured: the same limits as the serial link's messages
// (docs/protocol.md, "Limits and memory").
inline constexpr uint32_t kDefaultMaxMessageSize = 4096;
inline constexpr uint32_t kMaxMessageSizeLimit = 65536;

// Limits and timers of one end. Defaults are the protocol's.
struct WebSocketOptions {
  // Largest binary message sent or received. A larger outbound message is
  // refused by Send (INVALID_ARGUMENT); a larger inbound one closes the
  // connection (close code 1009, "message too big").
  uint32_t max_message_size = kDefaultMaxMessageSize;
  // A ping goes out every ping_interval while the connection is up.
  Duration ping_interval = std::chrono::seconds(1);
  // The peer is dead when nothing at all (message, ping, pong) arrived for
  // this long: the connection is dropped and the transport goes down.
  Duration dead_peer_timeout = std::chrono::seconds(3);
  // TCP connect + TLS + HTTP upgrade must finish within this.
  Duration handshake_timeout = std::chrono::seconds(5);
  // Messages accepted by Send and not yet written (RESOURCE_EXHAUSTED above).
  size_t max_queued_messages = 64;
};

// INVALID_ARGUMENT naming the first bad field: sizes 1..kMaxMessageSizeLimit,
// positive durations, ping_interval < dead_peer_timeout.
absl::Status ValidateWebSocketOptions(const WebSocketOptions& options);

// TLS on the posd (client) side. The terminal's certificate must chain to
// `ca_file` (PEM) and name `server_name` (default: the host connected to, as
// a DNS name or an IP address).
struct ClientTls {
  bool enabled = false;
  std::string ca_file;  // empty: the system's trust store
  std::string server_name;
};

// TLS on the terminal (server) side: its certificate chain and key (PEM).
struct ServerTls {
  bool enabled = false;
  std::string certificate_file;
  std::string private_key_file;
};

// Where posd reaches a terminal.
struct Endpoint {
  std::string host;  // DNS name, IPv4 or IPv6 address (no brackets)
  uint16_t port = 0;
  std::string path = std::string(kDefaultPath);

  bool operator==(const Endpoint&) const = default;
};

// "ws://host:port/path" or "wss://..." for logs.
std::string EndpointUrl(const Endpoint& endpoint, bool tls);

// INVALID_ARGUMENT for an empty host, port 0 or a path not starting with '/'.
absl::Status ValidateEndpoint(const Endpoint& endpoint);

// "127.0.0.1:8080", "[::1]:8080", "host:8080" (no path) into an endpoint
// with the default path. INVALID_ARGUMENT naming what is wrong.
absl::StatusOr<Endpoint> ParseHostPort(std::string_view text);

}  // namespace posd::websocket
