// Log levels by name, shared by the configuration file and the admin API.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "spdlog/common.h"

namespace posd::config {

// "trace", "debug", "info", "warn", "error", "critical", "off" (any case).
// INVALID_ARGUMENT listing the allowed names otherwise.
absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view name);

// The lower-case name of `level`, as ParseLogLevel accepts it.
std::string_view LogLevelName(spdlog::level::level_enum level);

}  // namespace posd::config
