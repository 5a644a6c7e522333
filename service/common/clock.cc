#include "service/common/clock.h"

namespace posd {

const Clock& RealClock::Get() {
  static const RealClock clock;
  return clock;
}

}  // namespace posd
