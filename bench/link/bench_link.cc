// Goodput of the link as a fraction of the raw line rate: payload bytes
// delivered per second / (baud / 10), on the wire emulator in virtual time.
// One direction streams messages with the send queue always full; the other
// only acknowledges. Configurations: 9600 and 115200 baud; 16, 256 and 4096
// (maximum) byte messages; clean, BER 1e-5 and BER 1e-4.
//
// Output: a table, then one line per configuration such as
//   goodput baud=115200 size=256 ber=1e-05 ratio=0.93
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "service/link/link_session.h"
#include "service/link/testing/link_harness.h"

namespace {

using namespace posd::link;
using namespace posd::link::testing;
using namespace std::chrono_literals;

struct Result {
  uint32_t baud;
  uint32_t size;
  double ber;
  double ratio;
  uint64_t retransmits;
  uint64_t crc_errors;
  uint64_t link_downs;
  double wall_ms;
};

Result Measure(uint32_t baud, uint32_t size, double ber, uint64_t seed) {
  HarnessOptions options;
  options.seed = seed;
  options.config.baud = baud;
  options.line.baud = baud;
  options.line.faults.bit_error_rate = ber;
  options.line.max_read_latency = 1ms;  // a USB adapter's latency timer
  LinkHarness harness(options);
  const std::vector<uint8_t> message(size, 0x5A);

  // Long enough for a few thousand frames at either speed.
  const auto warmup = baud >= 115200 ? 2s : 10s;
  const auto measured = baud >= 115200 ? 120s : 600s;
  const TimePoint start = TimePoint{} + warmup;
  const TimePoint end = start + measured;
  uint64_t delivered = 0;
  harness.on_actions = [&](Side side, LinkActions& actions) {
    if (side != kB || harness.now() < start) return;
    for (const auto& m : actions.delivered) delivered += m.size();
  };
  harness.on_step = [&] {
    if (!harness.powered(kA)) return;
    LinkSession& a = harness.session(kA);
    while (a.pending_messages() < options.config.send_queue_limit) {
      if (!a.Send(message, harness.now()).ok()) break;
    }
  };
  const auto wall_start = std::chrono::steady_clock::now();
  harness.RunUntil(end);
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start)
          .count();
  const double seconds = std::chrono::duration<double>(measured).count();
  const double line_rate = baud / 10.0;  // bytes per second of an 8N1 line
  const LinkStats a = harness.TotalStats(kA);
  const LinkStats b = harness.TotalStats(kB);
  return Result{baud,
                size,
                ber,
                static_cast<double>(delivered) / seconds / line_rate,
                a.retransmits_timeout + a.retransmits_nak,
                b.crc_errors,
                a.link_downs + b.link_downs,
                wall_ms};
}

}  // namespace

int main() {
  std::vector<Result> results;
  uint64_t seed = 1;
  for (uint32_t baud : {9600u, 115200u}) {
    for (uint32_t size : {16u, 256u, 4096u}) {
      for (double ber : {0.0, 1e-5, 1e-4}) results.push_back(Measure(baud, size, ber, seed++));
    }
  }
  std::printf("link goodput (payload bytes/s / (baud/10)), window 8, frame payload 256, "
              "max message 4096, 8N1, 1 ms read latency\n");
  std::printf("%8s %6s %8s %8s %10s %10s %6s %9s\n", "baud", "size", "ber", "ratio", "retransmit",
              "crc_err", "downs", "wall_ms");
  for (const Result& r : results) {
    std::printf("%8u %6u %8g %8.3f %10llu %10llu %6llu %9.0f\n", r.baud, r.size, r.ber, r.ratio,
                static_cast<unsigned long long>(r.retransmits),
                static_cast<unsigned long long>(r.crc_errors),
                static_cast<unsigned long long>(r.link_downs), r.wall_ms);
  }
  for (const Result& r : results) {
    std::printf("goodput baud=%u size=%u ber=%g ratio=%.2f\n", r.baud, r.size, r.ber, r.ratio);
  }
  return 0;
}
