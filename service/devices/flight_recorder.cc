#include "service/devices/flight_recorder.h"

#include <algorithm>

namespace posd::devices {

FlightRecorder::FlightRecorder(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void FlightRecorder::Add(const posd::v1::TraceEntry& entry) {
  const std::lock_guard lock(mutex_);
  if (ring_.size() < capacity_) {
    ring_.push_back(entry);
    return;
  }
  ring_[next_] = entry;
  next_ = (next_ + 1) % capacity_;
}

std::vector<posd::v1::TraceEntry> FlightRecorder::Snapshot(size_t max_entries) const {
  const std::lock_guard lock(mutex_);
  const size_t count = max_entries == 0 ? ring_.size() : std::min(max_entries, ring_.size());
  std::vector<posd::v1::TraceEntry> out;
  out.reserve(count);
  // Oldest entry sits at next_ once the ring is full, at 0 before.
  const size_t oldest = ring_.size() < capacity_ ? 0 : next_;
  for (size_t i = ring_.size() - count; i < ring_.size(); ++i) {
    out.push_back(ring_[(oldest + i) % ring_.size()]);
  }
  return out;
}

size_t FlightRecorder::size() const {
  const std::lock_guard lock(mutex_);
  return ring_.size();
}

}  // namespace posd::devices
