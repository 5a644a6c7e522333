// posd's start-up step for the HTTP edge (config section `http`): the
// gRPC-Web bridge on the API server's in-process channel, the bundle host on
// bundles.dir and /metrics, on one listener.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "service/config/config.h"
#include "service/http/bundle_host.h"
#include "service/http/grpc_bridge.h"
#include "service/http/http_router.h"
#include "service/http/http_server.h"
#include "service/metrics/metrics.h"

namespace posd {

class HttpEdge {
 public:
  // nullptr when http.listen is empty (no listener configured). Errors:
  // FAILED_PRECONDITION for unreadable TLS files, UNAVAILABLE when the
  // address cannot be bound. `in_process` is a channel to the API server,
  // which must outlive the edge; so must `metrics`.
  static absl::StatusOr<std::unique_ptr<HttpEdge>> Start(const config::Config& config,
                                                         std::shared_ptr<grpc::Channel> in_process,
                                                         metrics::Metrics& metrics);
  ~HttpEdge() { Stop(); }

  uint16_t port() const { return server_->port(); }

  // Cancels every gRPC-Web call and closes every connection; before the API
  // server shuts down. Idempotent.
  void Stop() {
    if (server_) server_->Stop();
  }

 private:
  HttpEdge(const config::Config& config, std::shared_ptr<grpc::Channel> in_process,
           metrics::Metrics& metrics);

  http::BundleHost bundles_;
  http::GrpcBridge bridge_;
  http::HttpRouter router_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace posd
