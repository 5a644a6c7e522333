#include "service/http/http_policy.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "service/common/strings.h"

namespace posd::http {
namespace {

// ASCII lower case: header names and media types are case-insensitive.
std::string Lower(std::string_view text) {
  return absl::AsciiStrToLower(absl::string_view(text.data(), text.size()));
}

// "name:port" -> "name"; "[::1]:port" -> "[::1]"; "name" -> "name".
std::string_view HostName(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const auto colon = host.find(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Headers a browser may send on a gRPC-Web call that posd reads itself.
constexpr std::array<std::string_view, 4> kAllowedButNotForwarded = {
    "content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"};

constexpr std::array<std::string_view, 26> kNeverForwarded = {
    "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
    "trailer", "content-length", "content-type", "content-encoding", "accept", "accept-encoding",
    "accept-language", "origin", "referer", "user-agent", "cookie", "authorization",
    "proxy-authorization", "x-grpc-web", "x-user-agent", "cache-control", "pragma", "expect",
    "forwarded"};

constexpr std::string_view kExposedHeaders =
    "grpc-status, grpc-message, grpc-status-details-bin";

}  // namespace

bool HostAllowed(const HttpPolicy& policy, std::string_view host) {
  if (host.empty()) return false;
  const std::string lower = Lower(host);
  const std::string_view name = HostName(lower);
  for (const auto& allowed : policy.allowed_hosts) {
    const std::string entry = Lower(allowed);
    if (entry == lower) return true;
    if (HostName(entry) == entry && entry == name) return true;  // no port: any port
  }
  return false;
}

bool IsSameOrigin(std::string_view origin, std::string_view host, bool tls) {
  const std::string expected = StrCat(tls ? "https://" : "http://", Lower(host));
  return Lower(origin) == expected;
}

bool OriginAllowed(const HttpPolicy& policy, std::string_view origin, std::string_view host,
                   bool tls) {
  if (origin.empty()) return true;
  if (IsSameOrigin(origin, host, tls)) return true;
  return Contains(policy.cors_allowed_origins, origin);
}

HeaderList CorsResponseHeaders(const HttpPolicy& policy, std::string_view origin,
                               std::string_view host, bool tls) {
  if (origin.empty() || IsSameOrigin(origin, host, tls) ||
      !Contains(policy.cors_allowed_origins, origin)) {
    return {};
  }
  return {{"access-control-allow-origin", std::string(origin)},
          {"access-control-allow-credentials", "true"},
          {"access-control-expose-headers", std::string(kExposedHeaders)},
          {"vary", "Origin"}};
}

absl::StatusOr<HeaderList> PreflightHeaders(const HttpPolicy& policy, std::string_view origin,
                                            std::string_view host, bool tls,
                                            std::string_view request_method,
                                            std::string_view request_headers) {
  if (origin.empty() || !OriginAllowed(policy, origin, host, tls)) {
    return absl::PermissionDeniedError(
        StrCat("origin '", origin, "' is not in http.cors_allowed_origins"));
  }
  if (request_method != "POST") {
    return absl::PermissionDeniedError(
        StrCat("only POST is allowed across origins, not '", request_method, "'"));
  }
  std::string allowed;
  std::string_view rest = request_headers;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string name = Lower(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    const bool ours = std::find(kAllowedButNotForwarded.begin(), kAllowedButNotForwarded.end(),
                                name) != kAllowedButNotForwarded.end();
    if (name.empty() || !(ours || IsForwardedHeader(name))) continue;
    if (!allowed.empty()) allowed.append(", ");
    allowed.append(name);
  }
  HeaderList headers = {{"access-control-allow-origin", std::string(origin)},
                        {"access-control-allow-credentials", "true"},
                        {"access-control-allow-methods", "POST"},
                        {"access-control-max-age", "600"},
                        {"vary", "Origin"}};
  if (!allowed.empty()) headers.emplace_back("access-control-allow-headers", allowed);
  return headers;
}

bool IsForwardedHeader(std::string_view name) {
  if (name.empty() || name.front() == ':') return false;
  if (std::find(kNeverForwarded.begin(), kNeverForwarded.end(), name) != kNeverForwarded.end()) {
    return false;
  }
  if (name.starts_with("grpc-")) return false;
  if (name.starts_with("sec-") || name.starts_with("proxy-")) return false;
  if (name.starts_with("posd-")) return name == "posd-elevation";
  if (name.starts_with("access-control-")) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.';
    if (!ok) return false;  // gRPC refuses other metadata names
  }
  return true;
}

absl::StatusOr<HeaderList> ForwardedMetadata(const HeaderList& request_headers) {
  HeaderList metadata;
  for (const auto& [raw_name, value] : request_headers) {
    std::string name = Lower(raw_name);
    if (!IsForwardedHeader(name)) continue;
    if (name.size() > 4 && name.ends_with("-bin")) {
      std::string decoded;
      Base64StreamDecoder decoder;
      std::string padded = value;
      while (padded.size() % 4 != 0) padded.push_back('=');  // unpadded is allowed
      if (!decoder.Feed(padded, decoded).ok() || !decoder.Finish().ok()) {
        return absl::InvalidArgumentError(StrCat("header ", name, " is not base64"));
      }
      metadata.emplace_back(std::move(name), std::move(decoded));
      continue;
    }
    for (char c : value) {
      if (static_cast<uint8_t>(c) < 0x20 || static_cast<uint8_t>(c) > 0x7e) {
        return absl::InvalidArgumentError(
            StrCat("header ", name, " has a character gRPC metadata cannot carry"));
      }
    }
    metadata.emplace_back(std::move(name), value);
  }
  return metadata;
}

HeaderList MetadataToHttp(const HeaderList& metadata) {
  HeaderList headers;
  for (const auto& [name, value] : metadata) {
    if (name.empty() || name.front() == ':' || name.starts_with("grpc-") ||
        std::find(kNeverForwarded.begin(), kNeverForwarded.end(), name) != kNeverForwarded.end()) {
      continue;
    }
    if (name.size() > 4 && name.ends_with("-bin")) {
      headers.emplace_back(name, Base64Encode(value));
    } else {
      headers.emplace_back(name, value);
    }
  }
  return headers;
}

}  // namespace posd::http
