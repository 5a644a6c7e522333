// In-memory fan-out of committed and live-only events to any number of
// watchers (EventService.WatchEvents).
//
// The engine publishes, after each commit, the durable events of that commit
// (in sequence order) and, at any time, live-only events (payment progress).
// The broadcaster keeps the newest durable events in a ring so that watchers
// that keep up never touch the database; a watcher that falls further behind
// reads the event_log table instead (EventCursor).
//
// Lifetime: listeners unsubscribe before they are destroyed; after
// Unsubscribe returns no callback runs on them. Shutdown() tells every
// listener to close (OnClose) and refuses new subscriptions.
//
// Thread safety: all methods are thread-safe. Listener callbacks run on the
// publishing thread with the broadcaster's listener lock held: they must be
// quick and must not block. The lock is recursive and callbacks iterate over
// a copy, so a callback may unsubscribe its own listener (a gRPC reactor that
// finishes inline does). Fetch may be called from a callback.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "posd/v1/events.pb.h"

namespace posd::engine {

class EventListener {
 public:
  virtual ~EventListener() = default;
  // Durable events up to `head` are committed.
  virtual void OnNewHead(uint64_t head) = 0;
  // A live-only event; its sequence is the head when it was published.
  virtual void OnLive(const posd::v1::Event& event) = 0;
  // The broadcaster is shutting down: finish now.
  virtual void OnClose() = 0;
};

class EventBroadcaster {
 public:
  // Keeps the newest `ring_capacity` durable events in memory.
  explicit EventBroadcaster(size_t ring_capacity = 4096) : ring_capacity_(ring_capacity) {}
  EventBroadcaster(const EventBroadcaster&) = delete;
  EventBroadcaster& operator=(const EventBroadcaster&) = delete;

  // The newest durable sequence at start-up (from the event_log table).
  void SetHead(uint64_t head);
  uint64_t head() const;

  // Publishes committed events, ascending and contiguous after head().
  void PublishCommitted(std::vector<posd::v1::Event> events);
  // Publishes a live-only event (sequence and durable are set here).
  void PublishLive(posd::v1::Event event);

  // Appends to `out` the durable events with sequence > `after`, at most
  // `max`, and returns true, when the ring still holds event after+1 (or
  // there is nothing newer); false when the caller must read the database.
  bool Fetch(uint64_t after, size_t max, std::vector<posd::v1::Event>& out) const;

  // Returns false (and does not subscribe) after Shutdown.
  bool Subscribe(EventListener* listener);
  void Unsubscribe(EventListener* listener);
  void Shutdown();
  size_t listener_count() const;

 private:
  // Calls `call` on every listener still subscribed when its turn comes.
  template <typename Call>
  void ForEachListener(Call call);

  const size_t ring_capacity_;
  mutable std::mutex ring_mutex_;
  std::deque<posd::v1::Event> ring_;  // guarded by ring_mutex_, ascending
  uint64_t head_ = 0;                 // guarded by ring_mutex_

  mutable std::recursive_mutex listeners_mutex_;  // taken before ring_mutex_, never after
  std::vector<EventListener*> listeners_;  // guarded by listeners_mutex_
  bool shut_down_ = false;                 // guarded by listeners_mutex_
};

}  // namespace posd::engine
