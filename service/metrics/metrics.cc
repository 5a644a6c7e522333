#include "service/metrics/metrics.h"

#include "prometheus/text_serializer.h"

namespace posd::metrics {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& family = prometheus::BuildGauge()
                     .Name("posd_watch_events_streams_open")
                     .Help("WatchEvents streams being served, by how the caller reached posd")
                     .Register(*registry_);
  watch_streams_grpc_ = &family.Add({{"transport", "grpc"}});
  watch_streams_grpc_web_ = &family.Add({{"transport", "grpc_web"}});
}

prometheus::Gauge& Metrics::open_watch_streams(StreamTransport transport) {
  return transport == StreamTransport::kGrpcWeb ? *watch_streams_grpc_web_ : *watch_streams_grpc_;
}

std::string Metrics::SerializeText() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace posd::metrics
