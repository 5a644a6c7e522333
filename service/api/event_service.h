// EventService: the event log, streamed and paged (posd.v1.EventService).
#pragma once

#include <string>

#include "posd/v1/events.pb.h"
#include "service/api/api_adapter.h"
#include "service/engine/event_broadcaster.h"
#include "service/engine/queries.h"
#include "service/metrics/metrics.h"

namespace posd::api {

// Serves posd.v1.EventService behind the API edge (api_adapter.h). Each WatchEvents call is a write reactor (no
// thread per stream) that replays stored events after since_sequence, then
// follows the engine's broadcaster: no gap, no duplicate. When the
// broadcaster shuts down (Engine::Stop, or StopWatching before the server
// drains) every stream ends with UNAVAILABLE "posd is shutting down".
//
// Thread-safe. `broadcaster` and `queries` must outlive the service and every
// stream (the server's Shutdown waits for streams to end).
class EventService final : public ApiAdapter {
 public:
  EventService(engine::EventBroadcaster& broadcaster, engine::Queries& queries,
               std::string instance_id)
      : ApiAdapter("posd.v1.EventService", nullptr),
        broadcaster_(broadcaster),
        queries_(queries),
        instance_id_(std::move(instance_id)) {
    ServerStreaming("WatchEvents", this, &EventService::WatchEvents);
    Unary("ListEvents", this, &EventService::ListEvents);
  }

  grpc::ServerWriteReactor<posd::v1::Event>* WatchEvents(
      grpc::CallbackServerContext* context, const posd::v1::WatchEventsRequest& request);
  void ListEvents(grpc::CallbackServerContext& context, const posd::v1::ListEventsRequest& request,
                  engine::Callback<posd::v1::ListEventsResponse> done);

  // Ends every stream now and refuses new ones; for the start of shutdown.
  void StopWatching() { broadcaster_.Shutdown(); }

  // Counts open streams by transport in `metrics` (which must outlive the
  // service); before the server starts.
  void CountStreamsIn(metrics::Metrics* metrics) { metrics_ = metrics; }

 private:
  engine::EventBroadcaster& broadcaster_;
  engine::Queries& queries_;
  const std::string instance_id_;
  metrics::Metrics* metrics_ = nullptr;
};

}  // namespace posd::api
