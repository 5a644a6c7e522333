// The "tip" plugin: tip presets a UI chooses from, and a cap (beforePayment).
// Settings: tip_settings.proto and README.md.
//
// Thread safety: immutable after Create; safe from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "plugins/tip/tip_settings.pb.h"
#include "service/core/money.h"
#include "service/hooks/plugin.h"

namespace posd::plugins {

class TipPlugin final : public hooks::Plugin {
 public:
  static constexpr std::string_view kName = "tip";
  // Payment parameters (PaymentDraft::parameters) the plugin reads.
  static constexpr std::string_view kPresetParameter = "tip.preset";          // 0-based index
  static constexpr std::string_view kPercentParameter = "tip.percent_bp";    // a preset's value

  static absl::StatusOr<std::unique_ptr<TipPlugin>> Create(const tip::TipSettings& settings);

  std::string_view name() const override { return kName; }
  std::vector<hooks::HookPoint> hook_points() const override {
    return {hooks::HookPoint::kBeforePayment};
  }

  // Sets the tip from the chosen preset (a percentage of the amount, rounded
  // half up in the currency's minor unit), or keeps the requested custom tip,
  // then applies the caps. INVALID_ARGUMENT for a bad or unknown preset
  // choice; FAILED_PRECONDITION when over a cap and refuse_over_cap.
  absl::Status BeforePayment(hooks::PaymentDraft& draft) override;

 private:
  TipPlugin(std::vector<int64_t> presets_bp, int64_t max_percent_bp,
            std::map<std::string, core::Money, std::less<>> max_amount, bool refuse_over_cap)
      : presets_bp_(std::move(presets_bp)),
        max_percent_bp_(max_percent_bp),
        max_amount_(std::move(max_amount)),
        refuse_over_cap_(refuse_over_cap) {}

  // The preset the UI chose, if any.
  absl::StatusOr<std::optional<int64_t>> ChosenPreset(const hooks::PaymentDraft& draft) const;

  std::vector<int64_t> presets_bp_;
  int64_t max_percent_bp_;
  std::map<std::string, core::Money, std::less<>> max_amount_;
  bool refuse_over_cap_;
};

}  // namespace posd::plugins
