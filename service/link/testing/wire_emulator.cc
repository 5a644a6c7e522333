#include "service/link/testing/wire_emulator.h"

#include <algorithm>

namespace posd::link::testing {
namespace {

constexpr uint64_t kNever = UINT64_MAX;

uint64_t DrawGap(std::mt19937_64& rng, double p) {
  if (p <= 0) return kNever;
  if (p >= 1) return 0;
  return std::geometric_distribution<uint64_t>(p)(rng);
}

}  // namespace

WireLine::WireLine(const WireLineConfig& config, uint64_t seed)
    : config_(config),
      byte_time_(Duration(int64_t{1'000'000'000} * config.bits_per_byte / config.baud)),
      rng_(seed) {}

bool WireLine::Chance(double p) {
  return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

void WireLine::Write(std::span<const uint8_t> bytes, TimePoint now) {
  stats_.bytes_written += bytes.size();
  // Frame-level faults need frame boundaries: split at delimiters.
  size_t begin = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != 0) continue;
    WriteSegment(bytes.subspan(begin, i + 1 - begin), true, now);
    begin = i + 1;
  }
  if (begin < bytes.size()) WriteSegment(bytes.subspan(begin), false, now);
}

void WireLine::WriteClean(std::span<const uint8_t> bytes, TimePoint now) {
  stats_.bytes_written += bytes.size();
  Transmit(std::vector<uint8_t>(bytes.begin(), bytes.end()), now);
}

void WireLine::WriteSegment(std::span<const uint8_t> segment, bool last_is_delimiter,
                            TimePoint now) {
  const WireFaults& f = config_.faults;
  // A lone delimiter or the tail of a frame begun in an earlier write is not
  // a frame of its own.
  const bool whole_frame = last_is_delimiter && !mid_frame_ && segment.size() > 1;
  mid_frame_ = !last_is_delimiter;
  std::vector<uint8_t> bytes(segment.begin(), segment.end());
  int copies = 1;
  if (whole_frame) {
    if (Chance(f.frame_drop_rate)) {
      ++stats_.frames_dropped;
      return;
    }
    if (Chance(f.frame_truncate_rate)) {
      ++stats_.frames_truncated;
      bytes.resize(std::uniform_int_distribution<size_t>(0, bytes.size() - 2)(rng_));
    }
    if (Chance(f.frame_duplicate_rate)) {
      ++stats_.frames_duplicated;
      copies = 2;
    }
    if (Chance(f.pause_rate) && bytes.size() > 1) {
      ++stats_.pauses;
      const size_t cut = std::uniform_int_distribution<size_t>(1, bytes.size() - 1)(rng_);
      const int64_t pause = std::uniform_int_distribution<int64_t>(f.pause_min.count(),
                                                                   f.pause_max.count())(rng_);
      std::vector<uint8_t> head(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(cut));
      bytes.erase(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(cut));
      ApplyByteFaults(head);
      Transmit(std::move(head), now);
      line_free_at_ += Duration(pause);
    }
  }
  for (int c = 0; c < copies; ++c) {
    std::vector<uint8_t> copy = bytes;
    ApplyByteFaults(copy);
    Transmit(std::move(copy), now);
  }
}

void WireLine::ApplyByteFaults(std::vector<uint8_t>& bytes) {
  const WireFaults& f = config_.faults;
  // Redraw the distances when the rates change (profiles switch mid-run).
  if (drawn_ber_ != f.bit_error_rate) {
    drawn_ber_ = f.bit_error_rate;
    bits_to_error_ = DrawGap(rng_, f.bit_error_rate);
  }
  if (drawn_burst_ != f.burst_rate) {
    drawn_burst_ = f.burst_rate;
    bytes_to_burst_ = DrawGap(rng_, f.burst_rate);
  }
  if (drawn_drop_ != f.byte_drop_rate) {
    drawn_drop_ = f.byte_drop_rate;
    bytes_to_drop_ = DrawGap(rng_, f.byte_drop_rate);
  }
  const uint64_t n = bytes.size();
  // Bit errors: a hit on a data bit flips it; a hit on a start or stop bit
  // makes the UART sample a different byte altogether.
  const uint64_t bits = n * config_.bits_per_byte;
  uint64_t pos = 0;
  while (bits_to_error_ != kNever && bits_to_error_ < bits - pos) {
    pos += bits_to_error_;
    const uint64_t byte = pos / config_.bits_per_byte;
    const uint64_t bit = pos % config_.bits_per_byte;
    if (bit >= 1 && bit <= 8) {
      bytes[byte] ^= static_cast<uint8_t>(1u << (bit - 1));
    } else {
      bytes[byte] = static_cast<uint8_t>(rng_());
    }
    ++stats_.bit_errors;
    ++pos;
    bits_to_error_ = DrawGap(rng_, f.bit_error_rate);
  }
  if (bits_to_error_ != kNever) bits_to_error_ -= bits - pos;

  uint64_t at = 0;
  while (bytes_to_burst_ != kNever && bytes_to_burst_ < n - at) {
    at += bytes_to_burst_;
    const uint64_t len = std::uniform_int_distribution<uint64_t>(1, f.burst_max_bytes)(rng_);
    for (uint64_t k = at; k < std::min(n, at + len); ++k) bytes[k] = static_cast<uint8_t>(rng_());
    ++stats_.bursts;
    ++at;
    bytes_to_burst_ = DrawGap(rng_, f.burst_rate);
  }
  if (bytes_to_burst_ != kNever) bytes_to_burst_ -= n - at;

  if (bytes_to_drop_ != kNever && bytes_to_drop_ < n) {
    std::vector<uint8_t> kept;
    kept.reserve(n);
    uint64_t next_drop = bytes_to_drop_;
    for (uint64_t k = 0; k < n; ++k) {
      if (k == next_drop) {
        ++stats_.bytes_dropped;
        next_drop = k + 1 + DrawGap(rng_, f.byte_drop_rate);
        continue;
      }
      kept.push_back(bytes[k]);
    }
    bytes_to_drop_ = next_drop == kNever ? kNever : next_drop - n;
    bytes = std::move(kept);
  } else if (bytes_to_drop_ != kNever) {
    bytes_to_drop_ -= n;
  }
}

void WireLine::Transmit(std::vector<uint8_t> bytes, TimePoint now) {
  if (bytes.empty()) return;
  Run run;
  run.start = std::max(now, line_free_at_);
  line_free_at_ = run.start + byte_time_ * static_cast<int64_t>(bytes.size());
  run.bytes = std::move(bytes);
  runs_.push_back(std::move(run));
  ScheduleRead();
}

void WireLine::ScheduleRead() {
  if (next_read_ || runs_.empty()) return;
  const Run& run = runs_.front();
  const TimePoint arrival = run.start + byte_time_ * static_cast<int64_t>(run.read + 1);
  const int64_t latency =
      std::uniform_int_distribution<int64_t>(0, config_.max_read_latency.count())(rng_);
  next_read_ = arrival + Duration(latency);
}

std::vector<uint8_t> WireLine::Read(TimePoint now) {
  std::vector<uint8_t> out;
  while (!runs_.empty()) {
    Run& run = runs_.front();
    if (now < run.start + byte_time_) break;
    const auto arrived = static_cast<size_t>((now - run.start) / byte_time_);
    const size_t upto = std::min(arrived, run.bytes.size());
    if (upto > run.read) {
      out.insert(out.end(), run.bytes.begin() + static_cast<ptrdiff_t>(run.read),
                 run.bytes.begin() + static_cast<ptrdiff_t>(upto));
      run.read = upto;
    }
    if (run.read < run.bytes.size()) break;
    runs_.pop_front();
  }
  stats_.bytes_delivered += out.size();
  next_read_.reset();
  ScheduleRead();
  return out;
}

void WireLine::CutSender(TimePoint now) {
  // Keep only bytes fully on the wire by `now`.
  while (!runs_.empty()) {
    Run& run = runs_.back();
    if (now >= run.start + byte_time_ * static_cast<int64_t>(run.bytes.size())) break;
    const size_t done = now < run.start ? 0 : static_cast<size_t>((now - run.start) / byte_time_);
    stats_.bytes_cut += run.bytes.size() - done;
    run.bytes.resize(done);
    if (run.bytes.empty() || run.read >= run.bytes.size()) {
      runs_.pop_back();
      continue;
    }
    break;
  }
  line_free_at_ = std::min(line_free_at_, now);
  mid_frame_ = false;
  next_read_.reset();
  ScheduleRead();
}

}  // namespace posd::link::testing
