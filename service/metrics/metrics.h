// posd's Prometheus metrics: one registry the daemon owns and hands to the
// parts that count something; served as text at the HTTP edge's /metrics.
#pragma once

#include <memory>
#include <string>

#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace posd::metrics {

// How a WatchEvents caller reached posd.
enum class StreamTransport { kGrpc, kGrpcWeb };

// Thread-safe: prometheus-cpp metrics and the registry are. Lives as long as
// the daemon; every part that holds a metric reference must go before it.
class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // For parts that add their own families (fleet, bundles, ...).
  prometheus::Registry& registry() { return *registry_; }

  // posd_watch_events_streams_open{transport="grpc"|"grpc_web"}: WatchEvents
  // streams being served right now.
  prometheus::Gauge& open_watch_streams(StreamTransport transport);

  // Every family in the Prometheus text exposition format (version 0.0.4).
  std::string SerializeText() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* watch_streams_grpc_;
  prometheus::Gauge* watch_streams_grpc_web_;
};

// The Content-Type of SerializeText's output.
inline constexpr char kTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace posd::metrics
