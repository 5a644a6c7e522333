// A serial line on virtual time, with fault injection, for tests and
// benchmarks of the link layer.
//
// WireLine carries the bytes of one direction (one end's TX to the other's RX)
// as a UART of the given baud would: each byte takes bits_per_byte bit times,
// bytes queue behind one another, and the reader gets them in chunks, as a
// USB adapter's latency timer delivers them. Faults are applied as bytes are
// written. Everything is deterministic for a given seed.
//
// Not thread-safe; owned by one test or benchmark.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "service/link/link_config.h"

namespace posd::link::testing {

struct WireFaults {
  double bit_error_rate = 0;  // per line bit (start and stop bits included)
  // Noise bursts: probability per byte that a burst starts; a burst replaces
  // 1 .. burst_max_bytes bytes with random ones.
  double burst_rate = 0;
  uint32_t burst_max_bytes = 16;
  double byte_drop_rate = 0;  // per byte (UART overrun)
  // Per frame (a run of bytes ending with a 0x00 delimiter):
  double frame_drop_rate = 0;
  double frame_duplicate_rate = 0;
  double frame_truncate_rate = 0;  // the frame is cut at a random byte
  double pause_rate = 0;           // the line stops inside the frame
  Duration pause_min = std::chrono::milliseconds(20);
  Duration pause_max = std::chrono::milliseconds(400);
};

struct WireLineConfig {
  uint32_t baud = 115200;
  uint32_t bits_per_byte = 10;
  // A reader sees bytes up to this long after they arrive (uniformly random
  // per read), so reads split frames at varying offsets.
  Duration max_read_latency = std::chrono::milliseconds(1);
  WireFaults faults;
};

struct WireStats {
  uint64_t bytes_written = 0;
  uint64_t bytes_delivered = 0;
  uint64_t bit_errors = 0;
  uint64_t bursts = 0;
  uint64_t bytes_dropped = 0;
  uint64_t frames_dropped = 0;
  uint64_t frames_duplicated = 0;
  uint64_t frames_truncated = 0;
  uint64_t pauses = 0;
  uint64_t bytes_cut = 0;  // lost to a power cut
};

class WireLine {
 public:
  WireLine(const WireLineConfig& config, uint64_t seed);

  void set_faults(const WireFaults& faults) { config_.faults = faults; }
  const WireFaults& faults() const { return config_.faults; }

  // The sender hands bytes to its UART at `now`; they start after anything
  // already queued.
  void Write(std::span<const uint8_t> bytes, TimePoint now);
  // As Write, without faults (stray bytes at boot are written this way).
  void WriteClean(std::span<const uint8_t> bytes, TimePoint now);

  // When the reader next gets bytes; nullopt if nothing is on the way.
  std::optional<TimePoint> NextReadTime() const { return next_read_; }
  // Bytes that reached the reader by `now`, in order.
  std::vector<uint8_t> Read(TimePoint now);

  // The sender lost power at `now`: the byte on the line is cut and nothing
  // queued behind it is sent.
  void CutSender(TimePoint now);

  // Time the last queued byte finishes (now or earlier if idle).
  TimePoint line_free_at() const { return line_free_at_; }
  Duration byte_time() const { return byte_time_; }
  const WireStats& stats() const { return stats_; }

 private:
  // Bytes that leave back to back: byte i arrives at start + (i + 1) * byte_time.
  struct Run {
    TimePoint start;
    std::vector<uint8_t> bytes;
    size_t read = 0;  // bytes already handed to the reader
  };

  void WriteSegment(std::span<const uint8_t> segment, bool last_is_delimiter, TimePoint now);
  void Transmit(std::vector<uint8_t> bytes, TimePoint now);
  void ApplyByteFaults(std::vector<uint8_t>& bytes);
  void ScheduleRead();
  bool Chance(double p);

  WireLineConfig config_;
  Duration byte_time_;
  std::mt19937_64 rng_;
  std::deque<Run> runs_;
  TimePoint line_free_at_{};
  std::optional<TimePoint> next_read_;
  bool mid_frame_ = false;  // the last byte written was not a delimiter
  // Distance (in bits / bytes) to the next bit error, burst and byte drop:
  // drawn from geometric distributions so clean stretches cost nothing.
  uint64_t bits_to_error_ = 0;
  uint64_t bytes_to_burst_ = 0;
  uint64_t bytes_to_drop_ = 0;
  double drawn_ber_ = -1, drawn_burst_ = -1, drawn_drop_ = -1;
  WireStats stats_;
};

}  // namespace posd::link::testing
