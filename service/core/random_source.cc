#include "service/core/random_source.h"

namespace posd::core {

uint64_t SplitMix64::NextUint64() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

SystemRandomSource::SystemRandomSource() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(),
                     device()};
  engine_.seed(seed);
}

}  // namespace posd::core
