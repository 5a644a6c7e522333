#include "service/http/http_router.h"

#include "service/common/strings.h"

namespace posd::http {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The strong ETag `etag` is among those of an If-None-Match header.
bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  std::size_t start = 0;
  while (start < if_none_match.size()) {
    auto comma = if_none_match.find(',', start);
    if (comma == std::string_view::npos) comma = if_none_match.size();
    std::string_view candidate = if_none_match.substr(start, comma - start);
    while (!candidate.empty() && candidate.front() == ' ') candidate.remove_prefix(1);
    while (!candidate.empty() && candidate.back() == ' ') candidate.remove_suffix(1);
    if (candidate.starts_with("W/")) candidate.remove_prefix(2);
    if (candidate == etag) return true;
    start = comma + 1;
  }
  return false;
}

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    default: return 500;
  }
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

HttpResponse HttpRouter::PlainError(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.headers = {{"content-type", "text/plain; charset=utf-8"},
                      {"x-content-type-options", "nosniff"},
                      {"cache-control", "no-store"}};
  response.body = StrCat(message, "\n");
  return response;
}

std::variant<HttpResponse, GrpcWebCall> HttpRouter::Route(const HttpRequest& request) const {
  const std::string_view host = request.Header("host");
  if (!HostAllowed(options_.policy, host)) {
    // 421: this server is not the one for that name (DNS rebinding).
    return PlainError(421, StrCat("host '", host, "' is not served here (http.allowed_hosts)"));
  }
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  if (request.method == "OPTIONS") return Preflight(request);
  if (path == "/metrics") {
    if (options_.metrics == nullptr) return PlainError(404, "no metrics here");
    if (request.method != "GET" && request.method != "HEAD") {
      HttpResponse response = PlainError(405, "/metrics answers GET");
      response.headers.emplace_back("allow", "GET, HEAD");
      return response;
    }
    HttpResponse response;
    response.headers = {{"content-type", metrics::kTextContentType}, {"cache-control", "no-store"}};
    response.body = options_.metrics->SerializeText();
    response.omit_body = request.method == "HEAD";
    return response;
  }
  if (path.starts_with("/ui/")) return ServeBundle(request, path.substr(4));
  if (IsGrpcMethodPath(path)) return StartGrpcWeb(request, path);
  return PlainError(404, "not found");
}

HttpResponse HttpRouter::Preflight(const HttpRequest& request) const {
  auto headers = PreflightHeaders(options_.policy, request.Header("origin"), request.Header("host"),
                                  request.tls, request.Header("access-control-request-method"),
                                  request.Header("access-control-request-headers"));
  if (!headers.ok()) return PlainError(403, ToStd(headers.status().message()));
  HttpResponse response;
  response.status = 204;
  response.headers = *std::move(headers);
  return response;
}

HttpResponse HttpRouter::ServeBundle(const HttpRequest& request, std::string_view rest) const {
  if (options_.bundles == nullptr) return PlainError(404, "no bundles here");
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = PlainError(405, "bundle files answer GET");
    response.headers.emplace_back("allow", "GET, HEAD");
    return response;
  }
  const auto slash = rest.find('/');
  const std::string_view bundle = rest.substr(0, slash);
  if (slash == std::string_view::npos) {
    // Relative asset URLs in the entry page need the trailing slash.
    HttpResponse response;
    response.status = 301;
    response.headers = {{"location", StrCat("/ui/", bundle, "/")}, {"cache-control", "no-cache"}};
    if (auto file = options_.bundles->Get(bundle, ""); !file.ok()) {
      return PlainError(HttpStatusFor(file.status()), ToStd(file.status().message()));
    }
    return response;
  }
  auto file = options_.bundles->Get(bundle, rest.substr(slash + 1));
  if (!file.ok()) return PlainError(HttpStatusFor(file.status()), ToStd(file.status().message()));
  HttpResponse response;
  response.headers = {{"content-type", file->content_type},
                      {"etag", file->etag},
                      {"cache-control", file->cache_control},
                      {"content-security-policy", std::string(BundleHost::ContentSecurityPolicy())},
                      {"x-content-type-options", "nosniff"},
                      {"referrer-policy", "no-referrer"}};
  if (EtagMatches(request.Header("if-none-match"), file->etag)) {
    response.status = 304;
    response.omit_body = true;
    return response;
  }
  response.body = std::move(file->body);
  response.omit_body = request.method == "HEAD";
  return response;
}

std::variant<HttpResponse, GrpcWebCall> HttpRouter::StartGrpcWeb(const HttpRequest& request,
                                                                 std::string_view path) const {
  if (request.method != "POST") {
    HttpResponse response = PlainError(405, "gRPC-Web calls are POST");
    response.headers.emplace_back("allow", "POST, OPTIONS");
    return response;
  }
  const auto mode = ParseGrpcWebContentType(request.Header("content-type"));
  if (!mode) {
    return PlainError(415, StrCat("content type '", request.Header("content-type"),
                                  "' is not gRPC-Web (application/grpc-web+proto or "
                                  "application/grpc-web-text)"));
  }
  const std::string_view origin = request.Header("origin");
  if (!OriginAllowed(options_.policy, origin, request.Header("host"), request.tls)) {
    return PlainError(403, StrCat("origin '", origin, "' is not in http.cors_allowed_origins"));
  }
  auto decoded = DecodeGrpcWebRequest(path, *mode, request.headers, request.body, options_.limits,
                                      std::chrono::system_clock::now());
  if (!decoded.ok()) return GrpcWebError(request, *mode, ToGrpcStatus(decoded.status()));
  GrpcWebCall call;
  call.request = *std::move(decoded);
  call.mode = *mode;
  call.server_streaming = GrpcBridge::IsServerStreaming(path);
  call.response_headers = CorsResponseHeaders(options_.policy, origin, request.Header("host"),
                                              request.tls);
  call.response_headers.emplace_back("x-content-type-options", "nosniff");
  call.response_headers.emplace_back("cache-control", "no-store");
  return call;
}

HttpResponse HttpRouter::GrpcWebError(const HttpRequest& request, GrpcWebMode mode,
                                      const grpc::Status& status) const {
  HttpResponse response;
  response.headers = CorsResponseHeaders(options_.policy, request.Header("origin"),
                                         request.Header("host"), request.tls);
  response.headers.emplace_back("content-type", std::string(ResponseContentType(mode)));
  response.headers.emplace_back("grpc-status", StrCat(static_cast<int>(status.error_code())));
  response.headers.emplace_back("grpc-message", PercentEncodeGrpcMessage(status.error_message()));
  response.body = GrpcWebResponseEncoder(mode).Trailers(status, {});
  return response;
}

}  // namespace posd::http
