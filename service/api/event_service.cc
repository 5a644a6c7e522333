#include "service/api/event_service.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>

#include "service/api/status_conversion.h"
#include "service/common/strings.h"

namespace posd::api {
namespace {

// How many live-only events may wait for a slow client before it is cut off
// (RESOURCE_EXHAUSTED: reconnect and resume); durable events never pile up
// here, they are read from the ring or the database when the client is ready.
constexpr size_t kMaxPendingLive = 256;

// One WatchEvents stream. Writes one event at a time; `busy_` marks a write
// in flight (or a decision being made), so only one thread drives the stream
// while the others just record what happened (new head, live event, close).
// Finish is never called with mutex_ held, and nothing touches the reactor
// after Finish or StartWrite returned from Pump (it may be gone).
class WatchReactor final : public grpc::ServerWriteReactor<posd::v1::Event>,
                           public engine::EventListener {
 public:
  WatchReactor(engine::EventBroadcaster& broadcaster, engine::Queries& queries,
               const posd::v1::WatchEventsRequest& request, const std::string& instance_id,
               prometheus::Gauge* open_streams)
      : broadcaster_(broadcaster), queries_(queries), filter_(request.filter()),
        open_streams_(open_streams) {
    // Counted until OnDone: the gauge drops only once gRPC is done with the
    // stream, so it proves a cancelled client was let go.
    if (open_streams_ != nullptr) open_streams_->Increment();
    if (!request.instance_id().empty() && request.instance_id() != instance_id) {
      Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          StrCat("instance_id ", request.instance_id(),
                                 " is not this database's (", instance_id,
                                 "): the database was replaced; reload with List calls")));
      return;
    }
    const uint64_t head = broadcaster_.head();
    position_ = request.has_since_sequence() ? request.since_sequence() : head;
    known_head_ = head;
    if (!broadcaster_.Subscribe(this)) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "posd is shutting down"));
      return;
    }
    subscribed_ = true;
    // The head may have moved between head() and Subscribe().
    known_head_ = broadcaster_.head();
    Pump();
  }

  void OnNewHead(uint64_t head) override {
    uint64_t known = known_head_.load();
    while (known < head && !known_head_.compare_exchange_weak(known, head)) {
    }
    Pump();
  }
  void OnLive(const posd::v1::Event& event) override {
    if (!engine::EventMatches(event, filter_)) return;
    {
      const std::lock_guard lock(mutex_);
      if (live_.size() >= kMaxPendingLive) {
        ending_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "the client reads too slowly; reconnect and resume from the last "
                               "sequence received");
      } else {
        live_.push_back(event);
      }
    }
    Pump();
  }
  void OnClose() override {
    {
      const std::lock_guard lock(mutex_);
      if (!ending_) ending_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "posd is shutting down");
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      const std::lock_guard lock(mutex_);
      busy_ = false;
      if (!ok && !ending_) ending_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
    }
    Pump();
  }
  void OnCancel() override {
    {
      const std::lock_guard lock(mutex_);
      if (!ending_) ending_ = grpc::Status(grpc::StatusCode::CANCELLED, "canceled by the client");
    }
    Pump();
  }
  void OnDone() override {
    if (subscribed_) broadcaster_.Unsubscribe(this);
    if (open_streams_ != nullptr) open_streams_->Decrement();
    delete this;
  }

 private:
  // Sends the next thing there is to send, if nothing is in flight.
  void Pump() {
    std::unique_lock lock(mutex_);
    if (busy_ || finished_) return;
    if (ending_) {
      finished_ = true;
      const grpc::Status status = *ending_;
      lock.unlock();
      Finish(status);
      return;
    }
    // Durable events first, in order, from the ring or else the database.
    while (pending_.empty() && position_ < known_head_.load()) {
      std::vector<posd::v1::Event> fetched;
      if (!broadcaster_.Fetch(position_, 64, fetched)) {
        auto read = queries_.ReadEvents(position_, 256);
        if (!read.ok()) {
          finished_ = true;
          lock.unlock();
          Finish(ToGrpcStatus(read.status()));
          return;
        }
        fetched = *std::move(read);
      }
      if (fetched.empty()) break;
      for (auto& event : fetched) {
        position_ = event.sequence();
        if (engine::EventMatches(event, filter_)) pending_.push_back(std::move(event));
      }
    }
    if (!pending_.empty()) {
      current_ = std::move(pending_.front());
      pending_.pop_front();
    } else if (!live_.empty()) {
      // Live events carry the last durable sequence this client has, so
      // resuming from any sequence it received never skips a durable event.
      current_ = std::move(live_.front());
      live_.pop_front();
      current_.set_sequence(position_);
    } else {
      return;
    }
    busy_ = true;
    lock.unlock();
    StartWrite(&current_);
  }

  engine::EventBroadcaster& broadcaster_;
  engine::Queries& queries_;
  const posd::v1::EventFilter filter_;
  prometheus::Gauge* const open_streams_;  // may be null
  bool subscribed_ = false;
  std::atomic<uint64_t> known_head_{0};

  std::mutex mutex_;
  uint64_t position_ = 0;                    // guarded by mutex_: last durable sequence handled
  std::deque<posd::v1::Event> pending_;      // guarded by mutex_
  std::deque<posd::v1::Event> live_;         // guarded by mutex_
  std::optional<grpc::Status> ending_;       // guarded by mutex_
  bool busy_ = false;                        // guarded by mutex_
  bool finished_ = false;                    // guarded by mutex_
  posd::v1::Event current_;                  // owned by the write in flight
};

}  // namespace

grpc::ServerWriteReactor<posd::v1::Event>* EventService::WatchEvents(
    grpc::CallbackServerContext* context, const posd::v1::WatchEventsRequest& request) {
  prometheus::Gauge* open_streams = nullptr;
  if (metrics_ != nullptr) {
    // The HTTP edge's gRPC-Web bridge is the only in-process caller; gRPC
    // 1.51 names the peer of an in-process call "unknown" (checked in
    // tests/unit/http), later versions "inproc".
    const std::string peer = context->peer();
    const bool in_process = peer == "unknown" || peer.rfind("inproc", 0) == 0;
    open_streams = &metrics_->open_watch_streams(in_process ? metrics::StreamTransport::kGrpcWeb
                                                            : metrics::StreamTransport::kGrpc);
  }
  return new WatchReactor(broadcaster_, queries_, request, instance_id_, open_streams);
}

void EventService::ListEvents(grpc::CallbackServerContext&,
                              const posd::v1::ListEventsRequest& request,
                              engine::Callback<posd::v1::ListEventsResponse> done) {
  done(queries_.ListEvents(request));
}

}  // namespace posd::api
