// A device's flight recorder: the last `capacity` trace entries (frames,
// messages, link events) kept in memory whether or not anyone traces, so that
// after a failure a support engineer can read what led up to it
// (`posctl devices dump ID`).
//
// A fixed-size ring: adding to a full recorder overwrites the oldest entry.
// Thread-safe: the link's thread adds, API threads take snapshots.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "posd/v1/devices.pb.h"

namespace posd::devices {

class FlightRecorder {
 public:
  static constexpr size_t kDefaultCapacity = 4096;

  explicit FlightRecorder(size_t capacity = kDefaultCapacity);

  void Add(const posd::v1::TraceEntry& entry);

  // The most recent `max_entries` entries (all when 0), oldest first.
  std::vector<posd::v1::TraceEntry> Snapshot(size_t max_entries = 0) const;

  size_t capacity() const { return capacity_; }
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<posd::v1::TraceEntry> ring_;  // guarded by mutex_
  size_t next_ = 0;                         // guarded by mutex_: slot written next once full
};

}  // namespace posd::devices
