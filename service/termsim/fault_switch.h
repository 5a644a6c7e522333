// The simulator's fault switches: which faults are armed and how often they
// fire (off, once, the next N times, always, or with a probability).
// Set from --fault at start and from the control socket while running.
//
// Not thread-safe: used on the simulator's event-loop thread.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posd::termsim {

enum class Fault : uint8_t {
  kApproveNoAnswer = 0,  // charge, record, never send the Result
  kCrashAfterCharge,     // charge, record, exit the process at once
  kPowerLoss,            // charge, record, lose power (restart, new epoch)
  kGarbage,              // write random bytes on the line
  kNoHeartbeat,          // leave heartbeats unanswered
};
inline constexpr size_t kFaultCount = 5;
std::string_view FaultName(Fault fault);

class FaultSwitch {
 public:
  explicit FaultSwitch(uint64_t seed = std::random_device{}()) : rng_(seed) {}

  // "NAME" (once; always for no-heartbeat), "NAME:once", "NAME:always",
  // "NAME:off", "NAME:N" (next N times) or "NAME:0.25" (probability).
  // INVALID_ARGUMENT listing the accepted names.
  absl::Status Parse(std::string_view spec);
  // As the control command: NAME MODE [ARG] with MODE once|always|off|next|prob.
  absl::Status SetFromWords(std::string_view name, std::string_view mode, std::string_view arg);

  // Whether the fault fires now; consumes one of "next N".
  bool Fire(Fault fault);
  // "crash-after-charge:once,no-heartbeat:always" or "none".
  std::string Describe() const;

 private:
  struct Setting {
    enum class Mode { kOff, kCount, kAlways, kProbability } mode = Mode::kOff;
    uint64_t count = 0;
    double probability = 0;
  };
  std::array<Setting, kFaultCount> settings_{};
  std::mt19937_64 rng_;
};

}  // namespace posd::termsim
