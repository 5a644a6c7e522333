// posd's configuration: loading, defaults and validation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "posd/config/v1/config.pb.h"

namespace posd::config {

using Config = ::posd::config::v1::Config;

// Default locations for a system installation (deploy/posd.service).
inline constexpr std::string_view kDefaultUnixSocket = "/run/posd/posd.sock";
inline constexpr std::string_view kDefaultDatabasePath = "/var/lib/posd/posd.db";
inline constexpr std::string_view kDefaultConfigPath = "/etc/posd/posd.yaml";
// The UDP port posd listens on for terminals' beacons by default
// (discovery::kDefaultBeaconPort; config does not depend on discovery).
inline constexpr uint16_t kDefaultBeaconPort = 47800;

// Reads, parses and validates the configuration file at `path` (YAML or
// JSON), and fills in every default so the result is the effective
// configuration. NOT_FOUND when the file does not exist; INVALID_ARGUMENT,
// naming the key, for an unknown key or a bad value.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// Same as LoadConfigFile, from text; `source_name` prefixes error messages.
absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view source_name);

// Checks values that the schema alone cannot (ranges, formats, combinations)
// and fills in defaults. INVALID_ARGUMENT naming the key on the first problem.
absl::Status ValidateAndApplyDefaults(Config& config);

// Parses a socket mode such as "0660"; INVALID_ARGUMENT when it is not octal
// or grants anything to others.
absl::StatusOr<unsigned> ParseSocketMode(std::string_view text);

}  // namespace posd::config
