#include "service/posctl/payment_parameters.h"

#include "service/common/strings.h"

namespace posd::posctl {
namespace {

constexpr char kTipPresetKey[] = "tip.preset";  // plugins/tip/README.md

bool IsWholeNumber(const std::string& text) {
  if (text.empty() || text.size() > 9) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> PaymentParameters(
    const std::string& tip_preset, const std::vector<std::string>& params) {
  std::map<std::string, std::string> parameters;
  for (const std::string& param : params) {
    const size_t equals = param.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError(
          StrCat("--param \"", param, "\" is not key=value (e.g. --param tip.preset=1)"));
    }
    std::string key = param.substr(0, equals);
    if (!parameters.emplace(key, param.substr(equals + 1)).second) {
      return absl::InvalidArgumentError(StrCat("--param ", key, " is given twice"));
    }
  }
  if (!tip_preset.empty()) {
    if (!IsWholeNumber(tip_preset)) {
      return absl::InvalidArgumentError(
          StrCat("--tip-preset \"", tip_preset,
                 "\" is not a preset number (0 for the first preset, 1 for the second, ...)"));
    }
    if (!parameters.emplace(kTipPresetKey, tip_preset).second) {
      return absl::InvalidArgumentError(
          StrCat("--tip-preset and --param ", kTipPresetKey, " say the same; give one"));
    }
  }
  return parameters;
}

}  // namespace posd::posctl
