// Fans one device's trace out to any number of watchers (TraceDevice streams)
// without touching the link: Publish never blocks and never waits for a
// reader. Each subscription has a bounded queue; when a reader falls behind,
// entries are dropped and the next entry it gets says how many
// (TraceEntry.dropped_before), like a network panel that cannot keep up.
//
// Thread-safety: Publish runs on the link's thread, subscriptions are read
// from gRPC threads; everything is locked inside. The wake-up callback runs
// with no lock held.
//
// Lifetime: subscriptions are shared between the fan-out and their reader;
// Unsubscribe (or the subscription's destruction by its reader) stops
// deliveries. After Unsubscribe returns, its wake-up callback is not running
// and never runs again, so the reader may then be destroyed.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "posd/v1/devices.pb.h"

namespace posd::devices {

class TraceSubscription {
 public:
  // `wake` runs (on the publisher's thread) when an entry arrives in an empty
  // queue or the subscription ends; it must not block.
  TraceSubscription(size_t max_queued, std::vector<posd::v1::TraceKind> kinds,
                    std::function<void()> wake);

  // The next entry if one is queued; with `dropped_before` set.
  std::optional<posd::v1::TraceEntry> TryPop();
  // Why the subscription ended (OK while it runs; NOT_FOUND when the device
  // was removed, CANCELLED on shutdown).
  absl::Status ended() const;
  bool has_ended() const;

 private:
  friend class TraceFanout;
  // Returns true when the reader should be woken.
  bool Offer(const posd::v1::TraceEntry& entry);
  bool End(absl::Status why);
  void Wake();
  void Detach();  // waits out a running wake-up; no wake-up afterwards

  const size_t max_queued_;
  const std::vector<posd::v1::TraceKind> kinds_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::deque<posd::v1::TraceEntry> queue_;  // guarded by mutex_
  uint64_t dropped_ = 0;                    // guarded by mutex_
  absl::Status ended_;                      // guarded by mutex_
  bool has_ended_ = false;                  // guarded by mutex_
  std::function<void()> wake_;              // guarded by mutex_; cleared by Detach
  int waking_ = 0;                          // guarded by mutex_: wake-ups running now
};

class TraceFanout {
 public:
  static constexpr size_t kDefaultQueue = 1024;

  std::shared_ptr<TraceSubscription> Subscribe(std::vector<posd::v1::TraceKind> kinds,
                                               std::function<void()> wake,
                                               size_t max_queued = kDefaultQueue);
  void Unsubscribe(const std::shared_ptr<TraceSubscription>& subscription);

  // Hands `entry` to every subscription that wants its kind.
  void Publish(const posd::v1::TraceEntry& entry);

  // Ends one subscription with `why` (its reader is going away, or posd is
  // shutting down); its wake-up runs once more so the reader notices.
  static void End(const std::shared_ptr<TraceSubscription>& subscription, const absl::Status& why);

  // Ends every subscription with `why` (device removed, shutdown).
  void EndAll(const absl::Status& why);

  size_t subscriber_count() const;

 private:
  std::vector<std::shared_ptr<TraceSubscription>> Copy() const;

  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<TraceSubscription>> subscriptions_;  // guarded by mutex_
  bool ended_ = false;                                             // guarded by mutex_
  absl::Status ended_why_;                                         // guarded by mutex_
};

}  // namespace posd::devices
