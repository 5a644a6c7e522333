#include "service/config/log_level.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "service/common/strings.h"

namespace posd::config {
namespace {

constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 7> kLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"critical", spdlog::level::critical},
    {"off", spdlog::level::off},
}};

}  // namespace

absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(ToAbsl(name));
  for (const auto& [level_name, level] : kLevels) {
    if (lower == level_name) return level;
  }
  return absl::InvalidArgumentError(StrCat(
      "'", name, "' is not a log level (trace, debug, info, warn, error, critical, off)"));
}

std::string_view LogLevelName(spdlog::level::level_enum level) {
  for (const auto& [level_name, known] : kLevels) {
    if (known == level) return level_name;
  }
  return "info";
}

}  // namespace posd::config
