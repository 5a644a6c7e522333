#include "service/termsim/fault_switch.h"

#include <charconv>
#include <string>

#include "absl/strings/numbers.h"
#include "service/common/strings.h"

namespace posd::termsim {
namespace {

constexpr std::array<std::string_view, kFaultCount> kNames = {
    "approve-no-answer", "crash-after-charge", "power-loss", "garbage", "no-heartbeat"};

std::string AllNames() {
  std::string out;
  for (std::string_view n : kNames) out = StrCat(out, out.empty() ? "" : ", ", n);
  return out;
}

}  // namespace

std::string_view FaultName(Fault fault) { return kNames[static_cast<size_t>(fault)]; }

absl::Status FaultSwitch::SetFromWords(std::string_view name, std::string_view mode,
                                       std::string_view arg) {
  size_t index = kFaultCount;
  for (size_t i = 0; i < kFaultCount; ++i) {
    if (kNames[i] == name) index = i;
  }
  if (index == kFaultCount) {
    return absl::InvalidArgumentError(StrCat("unknown fault '", name, "' (one of ", AllNames(), ")"));
  }
  Setting setting;
  using Mode = Setting::Mode;
  if (mode.empty()) mode = static_cast<Fault>(index) == Fault::kNoHeartbeat ? "always" : "once";
  if (mode == "off") {
    setting.mode = Mode::kOff;
  } else if (mode == "once") {
    setting.mode = Mode::kCount;
    setting.count = 1;
  } else if (mode == "always") {
    setting.mode = Mode::kAlways;
  } else if (mode == "next") {
    setting.mode = Mode::kCount;
    if (!absl::SimpleAtoi(ToAbsl(arg), &setting.count) || setting.count == 0) {
      return absl::InvalidArgumentError(StrCat("next: expected a positive count, got '", arg, "'"));
    }
  } else if (mode == "prob") {
    setting.mode = Mode::kProbability;
    if (!absl::SimpleAtod(ToAbsl(arg), &setting.probability) || setting.probability < 0 ||
        setting.probability > 1) {
      return absl::InvalidArgumentError(StrCat("prob: expected 0..1, got '", arg, "'"));
    }
  } else {
    return absl::InvalidArgumentError(
        StrCat("unknown mode '", mode, "' (once, always, off, next N, prob P)"));
  }
  settings_[index] = setting;
  return absl::OkStatus();
}

absl::Status FaultSwitch::Parse(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  if (colon == std::string_view::npos) return SetFromWords(name, "", "");
  const std::string_view mode = spec.substr(colon + 1);
  if (mode == "once" || mode == "always" || mode == "off") return SetFromWords(name, mode, "");
  if (mode.find('.') != std::string_view::npos) return SetFromWords(name, "prob", mode);
  return SetFromWords(name, "next", mode);
}

bool FaultSwitch::Fire(Fault fault) {
  Setting& s = settings_[static_cast<size_t>(fault)];
  switch (s.mode) {
    case Setting::Mode::kOff: return false;
    case Setting::Mode::kAlways: return true;
    case Setting::Mode::kCount:
      if (--s.count == 0) s.mode = Setting::Mode::kOff;
      return true;
    case Setting::Mode::kProbability:
      return std::uniform_real_distribution<double>(0, 1)(rng_) < s.probability;
  }
  return false;
}

std::string FaultSwitch::Describe() const {
  std::string out;
  for (size_t i = 0; i < kFaultCount; ++i) {
    const Setting& s = settings_[i];
    std::string mode;
    switch (s.mode) {
      case Setting::Mode::kOff: continue;
      case Setting::Mode::kAlways: mode = "always"; break;
      case Setting::Mode::kCount: mode = StrCat("next ", s.count); break;
      case Setting::Mode::kProbability: mode = StrCat("prob ", s.probability); break;
    }
    out = StrCat(out, out.empty() ? "" : ",", kNames[i], ":", mode);
  }
  return out.empty() ? "none" : out;
}

}  // namespace posd::termsim
