// A single-threaded event loop on virtual time for tests of the channel:
// scheduled tasks, timers (a TimerFactory) and a FakeClock that jumps from
// one event to the next, so a 120 s transaction timeout takes microseconds.
//
// Not thread-safe: one test owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "service/channel/timer.h"
#include "service/common/clock.h"

namespace posd::channel::testing {

class VirtualLoop final : public TimerFactory {
 public:
  VirtualLoop() = default;
  VirtualLoop(const VirtualLoop&) = delete;
  VirtualLoop& operator=(const VirtualLoop&) = delete;

  const FakeClock& clock() const { return clock_; }
  TimePoint now() const { return clock_.Now(); }

  // Runs `task` at `when` (tasks at the same time run in scheduling order).
  // Returns an id for Cancel.
  uint64_t ScheduleAt(TimePoint when, std::function<void()> task);
  uint64_t Post(std::function<void()> task) { return ScheduleAt(now(), std::move(task)); }
  void CancelTask(uint64_t id);

  // Runs tasks in time order until `done()` holds (checked before each task)
  // or virtual time would pass now + `limit`. True if `done()` held.
  bool RunUntil(const std::function<bool()>& done, Duration limit);
  // Runs everything due within `span` and leaves the clock at now + span.
  void RunFor(Duration span);

  std::unique_ptr<Timer> CreateTimer() override;

 private:
  using Key = std::pair<TimePoint, uint64_t>;
  bool RunOne(TimePoint limit);

  FakeClock clock_;
  uint64_t next_id_ = 1;
  std::map<Key, std::function<void()>> tasks_;
  std::map<uint64_t, TimePoint> when_;
};

}  // namespace posd::channel::testing
