// Who may talk to the HTTP edge and what crosses it: the Host check against
// DNS rebinding, CORS with an exact-origin allowlist, and which request
// headers reach the gRPC services (none that could claim a role). Free of any
// HTTP library; every function is pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/http/grpc_web_framing.h"

namespace posd::http {

struct HttpPolicy {
  // Host header values accepted: "name" (any port) or "name:port"; compared
  // without case.
  std::vector<std::string> allowed_hosts;
  // Origins allowed to call from another origin, exactly as browsers send them.
  std::vector<std::string> cors_allowed_origins;
};

// True when `host` (the Host header, maybe with a port) is allowed.
bool HostAllowed(const HttpPolicy& policy, std::string_view host);

// True when `origin` is the origin of posd itself as reached through `host`
// (a page served from /ui/ calling back), for either scheme.
bool IsSameOrigin(std::string_view origin, std::string_view host, bool tls);

// True when a request with this Origin header may be served: none (not a
// browser's cross-origin request), same origin, or an allowed origin.
bool OriginAllowed(const HttpPolicy& policy, std::string_view origin, std::string_view host,
                   bool tls);

// The CORS headers of an actual (non-preflight) response for an allowed
// cross origin: the exact origin echoed, credentials allowed, the gRPC-Web
// trailers and `exposed` header names readable. Empty when `origin` is empty
// or same-origin.
HeaderList CorsResponseHeaders(const HttpPolicy& policy, std::string_view origin,
                               std::string_view host, bool tls);

// Answer to a preflight (OPTIONS with Access-Control-Request-Method):
// PERMISSION_DENIED for an origin not allowed or a method other than POST,
// the headers of a 204 otherwise. Requested headers that would not be
// forwarded are left out of Access-Control-Allow-Headers, so the browser
// refuses to send them.
absl::StatusOr<HeaderList> PreflightHeaders(const HttpPolicy& policy, std::string_view origin,
                                            std::string_view host, bool tls,
                                            std::string_view request_method,
                                            std::string_view request_headers);

// True when a request header of this (lower-case) name is forwarded to the
// gRPC services as metadata. Never forwarded: HTTP's own and hop-by-hop
// headers, cookies and credentials (authorization), gRPC's reserved
// "grpc-*" (grpc-timeout becomes the deadline instead), and every "posd-*"
// header except "posd-elevation" (a manager's one-call elevation, checked by
// the API's role table).
bool IsForwardedHeader(std::string_view lower_case_name);

// The forwarded headers of a request as gRPC metadata: names lower case,
// "-bin" values base64-decoded (gRPC-Web sends them encoded).
// INVALID_ARGUMENT for a "-bin" value that is not base64.
absl::StatusOr<HeaderList> ForwardedMetadata(const HeaderList& request_headers);

// Server metadata as HTTP headers or gRPC-Web trailers: "-bin" values
// base64-encoded; gRPC's reserved names and HTTP's own dropped.
HeaderList MetadataToHttp(const HeaderList& metadata);

}  // namespace posd::http
