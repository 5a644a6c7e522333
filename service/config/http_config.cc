#include "service/config/http_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <string>

#include "service/common/strings.h"

namespace posd::config {
namespace {

absl::Status KeyError(std::string_view key, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat("http.", key, ": ", problem));
}

// Splits "IP:PORT" / "[IPv6]:PORT"; false when it is neither.
bool SplitIpPort(const std::string& text, std::string& ip, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size() || colon + 6 < text.size()) return false;
  ip = text.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return false;
  in_addr v4{};
  in6_addr v6{};
  return ::inet_pton(AF_INET, ip.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, ip.c_str(), &v6) == 1;
}

// scheme://host[:port] with nothing after it, as browsers send Origin.
bool IsOrigin(std::string_view origin) {
  std::string_view rest;
  if (origin.substr(0, 7) == "http://") {
    rest = origin.substr(7);
  } else if (origin.substr(0, 8) == "https://") {
    rest = origin.substr(8);
  } else {
    return false;
  }
  if (rest.empty()) return false;
  for (char c : rest) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == ':' || c == '[' || c == ']';
    if (!ok) return false;  // upper case, paths, user info, spaces
  }
  return true;
}

bool IsHostValue(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool IsLoopbackAddress(std::string_view ip) {
  const std::string text(ip);
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    const in6_addr loopback = IN6ADDR_LOOPBACK_INIT;
    return std::equal(std::begin(v6.s6_addr), std::end(v6.s6_addr), std::begin(loopback.s6_addr));
  }
  return false;
}

absl::Status ValidateHttp(v1::Config& config) {
  v1::Http& http = *config.mutable_http();
  if (!http.has_listen()) http.set_listen("");
  if (http.allowed_hosts().empty()) {
    for (std::string_view host : kDefaultHttpAllowedHosts) http.add_allowed_hosts(std::string(host));
  }
  for (int i = 0; i < http.allowed_hosts_size(); ++i) {
    if (!IsHostValue(http.allowed_hosts(i))) {
      return KeyError(StrCat("allowed_hosts[", i, "]"),
                      StrCat("'", http.allowed_hosts(i), "' is not a host name or address"));
    }
  }
  for (int i = 0; i < http.cors_allowed_origins_size(); ++i) {
    const std::string& origin = http.cors_allowed_origins(i);
    if (origin == "*") {
      return KeyError(StrCat("cors_allowed_origins[", i, "]"),
                      "\"*\" is refused: list each origin exactly (scheme://host[:port])");
    }
    if (!IsOrigin(origin)) {
      return KeyError(StrCat("cors_allowed_origins[", i, "]"),
                      StrCat("'", origin, "' is not an origin (lower-case scheme://host[:port])"));
    }
  }
  if (!http.has_tls_certificate_file() && config.server().has_tcp()) {
    http.set_tls_certificate_file(config.server().tcp().tls_certificate_file());
    http.set_tls_private_key_file(config.server().tcp().tls_private_key_file());
  }
  if (!http.has_tls_certificate_file()) http.set_tls_certificate_file("");
  if (!http.has_tls_private_key_file()) http.set_tls_private_key_file("");
  if (http.tls_certificate_file().empty() != http.tls_private_key_file().empty()) {
    return KeyError("tls_private_key_file",
                    "tls_certificate_file and tls_private_key_file go together");
  }
  if (!http.has_max_request_bytes()) http.set_max_request_bytes(4u << 20);
  if (http.max_request_bytes() < 1024 || http.max_request_bytes() > (64u << 20)) {
    return KeyError("max_request_bytes",
                    StrCat(http.max_request_bytes(), " is outside 1024 to 67108864"));
  }
  if (!http.has_max_connections()) http.set_max_connections(256);
  if (http.max_connections() < 1 || http.max_connections() > 10000) {
    return KeyError("max_connections", StrCat(http.max_connections(), " is outside 1 to 10000"));
  }
  if (http.listen().empty()) return absl::OkStatus();
  std::string ip;
  int port = 0;
  if (!SplitIpPort(http.listen(), ip, port)) {
    return KeyError("listen", StrCat("'", http.listen(),
                                     "' is not IP:PORT (e.g. 127.0.0.1:8780 or [::1]:8780)"));
  }
  if (!IsLoopbackAddress(ip) && http.tls_certificate_file().empty()) {
    return KeyError("listen", StrCat(http.listen(),
                                     " is not loopback: serving beyond this machine needs TLS "
                                     "(http.tls_certificate_file, or server.tcp's certificate)"));
  }
  return absl::OkStatus();
}

}  // namespace posd::config
