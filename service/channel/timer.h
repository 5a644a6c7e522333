// A one-shot, re-armable timer: the only way the channel logic learns that
// time has passed, so it runs on an Asio steady_timer in production and on
// virtual time (FakeClock) in tests.
//
// Threading: confined to the owner's event-loop thread; the callback runs on
// it, never inside ArmAt or Cancel. Destroying the timer cancels it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace posd::channel {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

class Timer {
 public:
  virtual ~Timer() = default;
  // Runs `fire` once, at or after `deadline` (as the owner's Clock tells
  // time). Replaces any earlier arming.
  virtual void ArmAt(TimePoint deadline, std::function<void()> fire) = 0;
  // Disarms; the callback of an earlier arming will not run.
  virtual void Cancel() = 0;
};

// Creates timers bound to one event loop.
class TimerFactory {
 public:
  virtual ~TimerFactory() = default;
  virtual std::unique_ptr<Timer> CreateTimer() = 0;
};

}  // namespace posd::channel
