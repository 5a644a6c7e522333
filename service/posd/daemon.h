// The posd process: start, serve until a signal, stop cleanly.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/config/config.h"
#include "service/engine/device_port.h"

namespace posd {

// Makes the port through which the engine reaches terminals, from the
// configuration. The terminal driver plugs in here; without it posd knows no
// terminal (engine::UnconfiguredDevicePort).
using DevicePortFactory =
    std::function<absl::StatusOr<std::unique_ptr<engine::DevicePort>>(const config::Config&)>;

struct DaemonOptions {
  // The configuration file; empty means built-in defaults only.
  std::string config_path;
  // Validate the configuration and the database, then exit without serving.
  bool check_only = false;
  // Optional; see DevicePortFactory.
  DevicePortFactory device_port_factory = {};
};

// Exit codes of posd, for service managers and scripts.
enum ExitCode : int {
  kExitOk = 0,
  kExitStartFailed = 1,  // configuration, database or listener refused
  kExitUsage = 2,        // bad command line
};

// Runs posd until SIGTERM or SIGINT, then drains calls, closes the database
// and returns kExitOk. Returns kExitStartFailed, after logging why, when it
// cannot start. Must be called from the main thread before any other thread
// exists (it blocks the termination signals for all threads it creates).
int RunDaemon(const DaemonOptions& options);

}  // namespace posd
