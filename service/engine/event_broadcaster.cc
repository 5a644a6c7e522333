#include "service/engine/event_broadcaster.h"

#include <algorithm>

namespace posd::engine {

template <typename Call>
void EventBroadcaster::ForEachListener(Call call) {
  const std::vector<EventListener*> snapshot = listeners_;
  for (EventListener* listener : snapshot) {
    if (std::find(listeners_.begin(), listeners_.end(), listener) != listeners_.end()) {
      call(listener);
    }
  }
}

void EventBroadcaster::SetHead(uint64_t head) {
  const std::lock_guard lock(ring_mutex_);
  head_ = head;
  ring_.clear();
}

uint64_t EventBroadcaster::head() const {
  const std::lock_guard lock(ring_mutex_);
  return head_;
}

void EventBroadcaster::PublishCommitted(std::vector<posd::v1::Event> events) {
  if (events.empty()) return;
  uint64_t head;
  {
    const std::lock_guard lock(ring_mutex_);
    for (auto& event : events) {
      ring_.push_back(std::move(event));
      if (ring_.size() > ring_capacity_) ring_.pop_front();
    }
    head_ = ring_.back().sequence();
    head = head_;
  }
  const std::lock_guard lock(listeners_mutex_);
  ForEachListener([head](EventListener* listener) { listener->OnNewHead(head); });
}

void EventBroadcaster::PublishLive(posd::v1::Event event) {
  event.set_durable(false);
  event.set_sequence(head());
  const std::lock_guard lock(listeners_mutex_);
  ForEachListener([&event](EventListener* listener) { listener->OnLive(event); });
}

bool EventBroadcaster::Fetch(uint64_t after, size_t max,
                             std::vector<posd::v1::Event>& out) const {
  const std::lock_guard lock(ring_mutex_);
  if (after >= head_) return true;
  if (ring_.empty() || ring_.front().sequence() > after + 1) return false;
  const size_t start = static_cast<size_t>(after + 1 - ring_.front().sequence());
  for (size_t i = start; i < ring_.size() && out.size() < max; ++i) out.push_back(ring_[i]);
  return true;
}

bool EventBroadcaster::Subscribe(EventListener* listener) {
  const std::lock_guard lock(listeners_mutex_);
  if (shut_down_) return false;
  listeners_.push_back(listener);
  return true;
}

void EventBroadcaster::Unsubscribe(EventListener* listener) {
  const std::lock_guard lock(listeners_mutex_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

void EventBroadcaster::Shutdown() {
  const std::lock_guard lock(listeners_mutex_);
  if (shut_down_) return;
  shut_down_ = true;
  ForEachListener([](EventListener* listener) { listener->OnClose(); });
}

size_t EventBroadcaster::listener_count() const {
  const std::lock_guard lock(listeners_mutex_);
  return listeners_.size();
}

}  // namespace posd::engine
