// Where the tracing decorators of one device hand their entries: the
// device's driver, which numbers and timestamps them and passes them to its
// flight recorder and trace fan-out. Runs on the link's thread.
#pragma once

#include <functional>

#include "posd/v1/devices.pb.h"

namespace posd::devices {

using TraceSink = std::function<void(posd::v1::TraceEntry entry)>;

}  // namespace posd::devices
