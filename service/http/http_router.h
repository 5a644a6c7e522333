// What the HTTP edge answers to one request, decided without any HTTP
// library: the Host and Origin checks, CORS preflights, /metrics, bundle
// files under /ui/, and gRPC-Web calls (returned for the session to run).
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "service/http/bundle_host.h"
#include "service/http/grpc_web_codec.h"
#include "service/http/http_policy.h"
#include "service/metrics/metrics.h"

namespace posd::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  HeaderList headers;  // names as received
  std::string body;
  bool tls = false;  // arrived over HTTPS

  // The first header of that name (without case), or "".
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;
  std::string body;
  bool omit_body = false;  // HEAD and 304: Content-Length of the body, no body
};

// A gRPC-Web call to forward: the session starts it on the bridge, sends
// `response_headers` and `content_type`, then frames from `encoder`.
struct GrpcWebCall {
  BridgedCallRequest request;
  GrpcWebMode mode = GrpcWebMode::kBinary;
  bool server_streaming = false;
  HeaderList response_headers;  // CORS, nosniff
};

struct HttpRouterOptions {
  HttpPolicy policy;
  GrpcWebRequestLimits limits;
  BundleHost* bundles = nullptr;        // null: /ui/ answers 404
  metrics::Metrics* metrics = nullptr;  // null: /metrics answers 404
};

// Thread-safe (the bundle host and metrics are); holds no per-request state.
class HttpRouter {
 public:
  explicit HttpRouter(HttpRouterOptions options) : options_(std::move(options)) {}

  std::variant<HttpResponse, GrpcWebCall> Route(const HttpRequest& request) const;

  // A gRPC-Web answer that ends at once with `status` (nothing forwarded):
  // HTTP 200, the status in the headers (trailers-only) and in a trailer frame.
  HttpResponse GrpcWebError(const HttpRequest& request, GrpcWebMode mode,
                            const grpc::Status& status) const;

  // For a request whose body is over the limit, or that cannot be parsed.
  static HttpResponse PlainError(int status, std::string_view message);

  // The body limit: one message of the largest size, framed, in text mode
  // (base64 adds a third).
  std::size_t max_request_bytes() const {
    return (options_.limits.max_message_bytes + kFrameHeaderSize + 2) / 3 * 4 + 1024;
  }

 private:
  HttpResponse Preflight(const HttpRequest& request) const;
  HttpResponse ServeBundle(const HttpRequest& request, std::string_view path) const;
  std::variant<HttpResponse, GrpcWebCall> StartGrpcWeb(const HttpRequest& request,
                                                       std::string_view path) const;

  HttpRouterOptions options_;
};

}  // namespace posd::http
