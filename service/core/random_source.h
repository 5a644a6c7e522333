// Randomness as an injected dependency, so that id generation is
// deterministic in tests.
#pragma once

#include <cstdint>
#include <random>

namespace posd::core {

// A source of uniformly distributed 64-bit values. Implementations are NOT
// required to be thread-safe: each user serialises its own calls (the
// IdGenerator draws under its lock).
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual uint64_t NextUint64() = 0;
};

// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed sequence fully
// determined by its seed. For tests and simulations; not for secrets.
class SplitMix64 final : public RandomSource {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t NextUint64() override;

 private:
  uint64_t state_;
};

// The production source: a Mersenne Twister seeded once from
// std::random_device. Ids need uniqueness, not secrecy, so a seeded PRNG is
// enough and does not touch the entropy pool on every id.
class SystemRandomSource final : public RandomSource {
 public:
  SystemRandomSource();
  uint64_t NextUint64() override { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace posd::core
