#include "service/websocket/websocket_options.h"

#include "absl/strings/numbers.h"
#include "service/common/strings.h"

namespace posd::websocket {

absl::Status ValidateWebSocketOptions(const WebSocketOptions& options) {
  if (options.max_message_size == 0 || options.max_message_size > kMaxMessageSizeLimit) {
    return absl::InvalidArgumentError(StrCat("max_message_size: must be 1 to ",
                                             kMaxMessageSizeLimit, ", not ",
                                             options.max_message_size));
  }
  if (options.ping_interval <= Duration::zero()) {
    return absl::InvalidArgumentError("ping_interval: must be positive");
  }
  if (options.dead_peer_timeout <= options.ping_interval) {
    return absl::InvalidArgumentError(
        "dead_peer_timeout: must be longer than ping_interval (a live peer answers pings)");
  }
  if (options.handshake_timeout <= Duration::zero()) {
    return absl::InvalidArgumentError("handshake_timeout: must be positive");
  }
  if (options.max_queued_messages == 0) {
    return absl::InvalidArgumentError("max_queued_messages: must be positive");
  }
  return absl::OkStatus();
}

std::string EndpointUrl(const Endpoint& endpoint, bool tls) {
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  return StrCat(tls ? "wss://" : "ws://", v6 ? "[" : "", endpoint.host, v6 ? "]" : "", ":",
                endpoint.port, endpoint.path);
}

absl::Status ValidateEndpoint(const Endpoint& endpoint) {
  if (endpoint.host.empty()) return absl::InvalidArgumentError("host: is required");
  if (endpoint.host.size() > 253) return absl::InvalidArgumentError("host: too long");
  if (endpoint.port == 0) return absl::InvalidArgumentError("port: must be 1 to 65535");
  if (endpoint.path.empty() || endpoint.path[0] != '/') {
    return absl::InvalidArgumentError(StrCat("path: must start with '/', not '", endpoint.path, "'"));
  }
  for (char c : endpoint.path) {
    if (c <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError("path: no spaces or control characters");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Endpoint> ParseHostPort(std::string_view text) {
  Endpoint endpoint;
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(StrCat("'", text, "': expected [IPv6]:PORT"));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return absl::InvalidArgumentError(StrCat("'", text, "': expected HOST:PORT"));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  uint32_t number = 0;
  if (host.empty()) return absl::InvalidArgumentError(StrCat("'", text, "': no host"));
  if (!absl::SimpleAtoi(ToAbsl(port), &number) || number > 65535) {
    return absl::InvalidArgumentError(StrCat("'", text, "': port must be 0 to 65535"));
  }
  endpoint.host = std::string(host);
  endpoint.port = static_cast<uint16_t>(number);
  return endpoint;
}

}  // namespace posd::websocket
