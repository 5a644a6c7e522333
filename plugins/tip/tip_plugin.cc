#include "plugins/tip/tip_plugin.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/hooks/plugin_registry.h"

namespace posd::plugins {
namespace {

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("plugin \"tip\": ", what));
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TipPlugin>> TipPlugin::Create(const tip::TipSettings& settings) {
  std::vector<int64_t> presets;
  for (int i = 0; i < settings.presets_bp_size(); ++i) {
    const int64_t bp = settings.presets_bp(i);
    if (bp < 1 || bp > 10'000) {
      return Bad(StrCat("presets_bp[", i, "] ", bp, " is not between 1 and 10000"));
    }
    presets.push_back(bp);
  }
  if (settings.max_percent_bp() < 0 || settings.max_percent_bp() > 10'000) {
    return Bad(StrCat("max_percent_bp ", settings.max_percent_bp(),
                      " is not between 0 and 10000"));
  }
  std::map<std::string, core::Money, std::less<>> max_amount;
  for (const auto& [currency_text, decimal] : settings.max_amount()) {
    absl::StatusOr<core::CurrencyCode> currency = core::CurrencyCode::Parse(currency_text);
    if (!currency.ok()) return Bad(StrCat("max_amount: ", currency.status().message()));
    absl::StatusOr<core::Money> amount = core::Money::Parse(decimal, *currency);
    if (!amount.ok()) {
      return Bad(StrCat("max_amount.", currency_text, ": ", amount.status().message()));
    }
    if (amount->is_negative()) return Bad(StrCat("max_amount.", currency_text, " is negative"));
    max_amount.emplace(currency_text, *amount);
  }
  return std::unique_ptr<TipPlugin>(new TipPlugin(std::move(presets), settings.max_percent_bp(),
                                                  std::move(max_amount),
                                                  settings.refuse_over_cap()));
}

absl::StatusOr<std::optional<int64_t>> TipPlugin::ChosenPreset(
    const hooks::PaymentDraft& draft) const {
  std::optional<std::string_view> index_text = draft.parameter(kPresetParameter);
  std::optional<std::string_view> percent_text = draft.parameter(kPercentParameter);
  if (index_text && percent_text) {
    return absl::InvalidArgumentError(
        StrCat("choose a tip by ", kPresetParameter, " or ", kPercentParameter, ", not both"));
  }
  if (index_text) {
    std::optional<int64_t> index = ParseInt(*index_text);
    if (!index || *index < 0 || *index >= static_cast<int64_t>(presets_bp_.size())) {
      return absl::InvalidArgumentError(StrCat(kPresetParameter, " \"", *index_text,
                                               "\" is not a preset (0 to ",
                                               static_cast<int64_t>(presets_bp_.size()) - 1,
                                               ")"));
    }
    return presets_bp_[*index];
  }
  if (percent_text) {
    std::optional<int64_t> bp = ParseInt(*percent_text);
    if (!bp || std::find(presets_bp_.begin(), presets_bp_.end(), *bp) == presets_bp_.end()) {
      return absl::InvalidArgumentError(
          StrCat(kPercentParameter, " \"", *percent_text, "\" is not one of the presets"));
    }
    return *bp;
  }
  return std::optional<int64_t>();
}

absl::Status TipPlugin::BeforePayment(hooks::PaymentDraft& draft) {
  const core::Money amount = draft.payment().amount;
  POSD_ASSIGN_OR_RETURN(std::optional<int64_t> preset, ChosenPreset(draft));
  core::Money tip = draft.payment().tip;
  if (preset) {
    POSD_ASSIGN_OR_RETURN(tip, amount.PercentOf(*preset));
  }

  // The lower of the two caps applies.
  std::optional<core::Money> cap;
  if (max_percent_bp_ > 0) {
    POSD_ASSIGN_OR_RETURN(cap, amount.PercentOf(max_percent_bp_));
  }
  if (auto it = max_amount_.find(amount.currency().code()); it != max_amount_.end()) {
    if (!cap || it->second < *cap) cap = it->second;
  }
  if (cap && tip > *cap) {
    if (refuse_over_cap_) {
      return absl::FailedPreconditionError(
          StrCat("tip ", tip.ToString(), " exceeds the cap of ", cap->ToString()));
    }
    tip = *cap;
  }
  return draft.SetTip(tip);
}

namespace {

class TipPluginFactory final : public hooks::TypedPluginFactory<tip::TipSettings> {
 public:
  std::string_view name() const override { return TipPlugin::kName; }
  std::string_view description() const override {
    return "Tip presets chosen by the UI, with a cap";
  }
  std::vector<hooks::HookPoint> hook_points() const override {
    return {hooks::HookPoint::kBeforePayment};
  }

 protected:
  absl::StatusOr<std::unique_ptr<hooks::Plugin>> CreateFromSettings(
      const tip::TipSettings& settings) const override {
    POSD_ASSIGN_OR_RETURN(std::unique_ptr<TipPlugin> plugin, TipPlugin::Create(settings));
    return std::unique_ptr<hooks::Plugin>(std::move(plugin));
  }
};

POSD_REGISTER_PLUGIN(TipPluginFactory);

}  // namespace
}  // namespace posd::plugins
