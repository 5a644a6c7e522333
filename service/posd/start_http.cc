// Start-up step of the HTTP edge: gRPC-Web, bundles and /metrics for
// browsers, on the API server's in-process channel.
#include "service/common/strings.h"
#include "service/posd/http_edge.h"
#include "service/posd/startup_steps.h"
#include "spdlog/spdlog.h"

namespace posd {

absl::Status StartHttpEdge(DaemonContext& context) {
  auto edge = HttpEdge::Start(context.config, context.server->InProcessChannel(), context.metrics);
  if (!edge.ok()) return edge.status();
  context.http_edge = *std::move(edge);
  if (context.http_edge == nullptr) return absl::OkStatus();
  spdlog::info("serving gRPC-Web, /ui/ and /metrics over HTTP{} on port {} ({})",
               context.config.http().tls_certificate_file().empty() ? "" : "S",
               context.http_edge->port(), context.config.http().listen());
  // Its bridged calls end before the API server drains.
  context.stops.Push("stop the HTTP edge", [&context] {
    context.http_edge->Stop();
    context.http_edge.reset();
  });
  return absl::OkStatus();
}

}  // namespace posd
