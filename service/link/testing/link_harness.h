// Two link ends joined by a WireLine in each direction, on virtual time.
//
// The harness owns both LinkSessions, delivers every byte, timer and action in
// time order, and can cut the power of either end (the end restarts later
// with a new epoch, empty memory and a burst of stray bytes, as terminals
// printing a boot banner do). Tests and bench_link put their application
// logic in the callbacks.
//
// Not thread-safe; owned by one test or benchmark.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>

#include "service/link/link_session.h"
#include "service/link/testing/wire_emulator.h"

namespace posd::link::testing {

enum Side : int { kA = 0, kB = 1 };
inline Side Other(Side s) { return s == kA ? kB : kA; }

struct HarnessOptions {
  LinkConfig config;  // both ends
  WireLineConfig line;  // both directions (faults can be changed per line later)
  uint64_t seed = 1;
  // Stray bytes a restarting end writes before its first frame.
  bool boot_garbage = true;
};

class LinkHarness {
 public:
  explicit LinkHarness(const HarnessOptions& options);

  // Called with each end's actions, after every step that produced some.
  std::function<void(Side, LinkActions&)> on_actions;
  // Called when an end comes back after a power cut (its session is new).
  std::function<void(Side)> on_restart;
  // Called after every step; the application queues more messages here.
  std::function<void()> on_step;

  // Processes events in time order until `until`, or until `done()` is true
  // (checked after every step). Returns false if it stopped at `until`.
  bool RunUntil(TimePoint until, const std::function<bool()>& done = {});

  // Cuts the power of `side` now; it restarts after `off_for`.
  void PowerCut(Side side, Duration off_for);
  // Adds a power cut at a later time.
  void SchedulePowerCut(Side side, TimePoint at, Duration off_for);

  bool powered(Side side) const { return sessions_[side] != nullptr; }
  LinkSession& session(Side side) { return *sessions_[side]; }
  // Direction leaving `from`.
  WireLine& line(Side from) { return *lines_[from]; }
  TimePoint now() const { return now_; }
  // Counters of sessions that were lost to power cuts, plus the live ones.
  LinkStats TotalStats(Side side) const;

 private:
  void Boot(Side side);
  void Drain(Side side);

  HarnessOptions options_;
  std::mt19937_64 rng_;
  TimePoint now_{};
  std::array<std::unique_ptr<LinkSession>, 2> sessions_;
  std::array<std::unique_ptr<WireLine>, 2> lines_;
  std::array<std::optional<TimePoint>, 2> restart_at_;
  std::array<std::optional<std::pair<TimePoint, Duration>>, 2> cut_at_;
  std::array<LinkStats, 2> dead_stats_{};
};

}  // namespace posd::link::testing
