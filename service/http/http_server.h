// The HTTP/1.1 listener of posd (Boost.Beast on an io_context of its own
// threads): gRPC-Web through the bridge, bundle files and /metrics, as the
// router decides. Plain HTTP or HTTPS.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/http/grpc_bridge.h"
#include "service/http/http_router.h"

namespace posd::http {

struct HttpServerOptions {
  // "IP:PORT" ("[::1]:0" for IPv6); port 0 picks a free port.
  std::string listen;
  // PEM; both empty: plain HTTP.
  std::string tls_certificate_chain_pem;
  std::string tls_private_key_pem;
  std::size_t max_connections = 256;
  int threads = 2;
};

// Serves until Stop. `router` and `bridge` must outlive the server.
class HttpServer {
 public:
  virtual ~HttpServer() = default;

  // Binds and starts serving. UNAVAILABLE naming the address when it cannot
  // be bound; INVALID_ARGUMENT for a bad address or TLS material.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           const HttpRouter& router,
                                                           GrpcBridge& bridge);

  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;

  // Stops accepting, cancels every bridged call in flight and closes every
  // connection, waits until all calls have ended, then joins the threads.
  // Idempotent; the destructor calls it.
  virtual void Stop() = 0;
};

}  // namespace posd::http
