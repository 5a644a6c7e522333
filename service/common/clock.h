// Time as an injected dependency, so that timers and timeouts are testable on
// virtual time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace posd {

// Source of monotonic and wall-clock time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for durations and timeouts. Never goes back.
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  // Wall-clock time, for records shown to people (created_at, audit entries).
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
};

// The process's real clocks. A single shared instance: RealClock::Get().
class RealClock final : public Clock {
 public:
  static const Clock& Get();
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point wall_start =
                         std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)))
      : wall_start_(wall_start) {}

  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(elapsed_ns_.load()));
  }
  std::chrono::system_clock::time_point WallNow() const override {
    return wall_start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             std::chrono::nanoseconds(elapsed_ns_.load()));
  }
  void Advance(std::chrono::nanoseconds by) { elapsed_ns_ += by.count(); }

 private:
  std::chrono::system_clock::time_point wall_start_;
  std::atomic<int64_t> elapsed_ns_{0};
};

}  // namespace posd
