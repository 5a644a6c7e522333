#include "plugins/discount/discount_plugin.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "google/protobuf/util/time_util.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/hooks/plugin_registry.h"

namespace posd::plugins {
namespace {

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = absl::ascii_toupper(static_cast<unsigned char>(c));
  return upper;
}

absl::Status Bad(std::string_view coupon, std::string_view what) {
  return absl::InvalidArgumentError(
      StrCat("plugin \"discount\": coupon \"", coupon, "\": ", what));
}

// {"EUR": "5.00"} -> amounts, refusing unknown currencies and bad decimals.
absl::StatusOr<std::map<std::string, core::Money, std::less<>>> ParseAmounts(
    std::string_view coupon, std::string_view key,
    const google::protobuf::Map<std::string, std::string>& in) {
  std::map<std::string, core::Money, std::less<>> out;
  for (const auto& [currency_text, decimal] : in) {
    absl::StatusOr<core::CurrencyCode> currency = core::CurrencyCode::Parse(currency_text);
    if (!currency.ok()) return Bad(coupon, StrCat(key, ": ", currency.status().message()));
    absl::StatusOr<core::Money> amount = core::Money::Parse(decimal, *currency);
    if (!amount.ok()) {
      return Bad(coupon, StrCat(key, ".", currency_text, ": ", amount.status().message()));
    }
    if (amount->is_negative()) return Bad(coupon, StrCat(key, ".", currency_text, " is negative"));
    out.emplace(currency_text, *amount);
  }
  return out;
}

std::chrono::system_clock::time_point ToTimePoint(const google::protobuf::Timestamp& t) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::microseconds(google::protobuf::util::TimeUtil::TimestampToMicroseconds(t))));
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  return google::protobuf::util::TimeUtil::ToString(
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DiscountPlugin>> DiscountPlugin::Create(
    const discount::DiscountSettings& settings) {
  std::vector<Coupon> coupons;
  std::set<std::string> codes;
  for (int i = 0; i < settings.coupons_size(); ++i) {
    const discount::Coupon& in = settings.coupons(i);
    const std::string where = in.code().empty() ? StrCat("coupons[", i, "]") : in.code();
    if (in.code().empty()) return Bad(where, "code is required");
    Coupon coupon{.code = Upper(in.code()),
                  .description = in.description().empty() ? in.code() : in.description()};
    if (!codes.insert(coupon.code).second) return Bad(where, "code is listed twice");
    const bool percent = in.percent_bp() != 0;
    const bool fixed = !in.fixed_amounts().empty();
    if (percent == fixed) return Bad(where, "set exactly one of percent_bp and fixed_amounts");
    if (percent && (in.percent_bp() < 1 || in.percent_bp() > 10'000)) {
      return Bad(where, StrCat("percent_bp ", in.percent_bp(), " is not between 1 and 10000"));
    }
    coupon.percent_bp = in.percent_bp();
    POSD_ASSIGN_OR_RETURN(coupon.fixed, ParseAmounts(where, "fixed_amounts", in.fixed_amounts()));
    for (const auto& [currency, amount] : coupon.fixed) {
      if (!amount.is_positive()) return Bad(where, StrCat("fixed_amounts.", currency, " is zero"));
    }
    POSD_ASSIGN_OR_RETURN(coupon.minimum,
                          ParseAmounts(where, "minimum_subtotal", in.minimum_subtotal()));
    if (in.max_uses() < 0) return Bad(where, "max_uses is negative");
    coupon.max_uses = in.max_uses();
    if (in.has_valid_from()) coupon.valid_from = ToTimePoint(in.valid_from());
    if (in.has_valid_until()) coupon.valid_until = ToTimePoint(in.valid_until());
    if (coupon.valid_from && coupon.valid_until && *coupon.valid_until <= *coupon.valid_from) {
      return Bad(where, "valid_until is not after valid_from");
    }
    coupons.push_back(std::move(coupon));
  }
  return std::unique_ptr<DiscountPlugin>(new DiscountPlugin(std::move(coupons),
                                                            settings.stackable()));
}

const DiscountPlugin::Coupon* DiscountPlugin::Find(std::string_view upper_code) const {
  for (const Coupon& coupon : coupons_) {
    if (coupon.code == upper_code) return &coupon;
  }
  return nullptr;
}

absl::Status DiscountPlugin::BeforeOrder(hooks::OrderDraft& draft) {
  // Which of our coupons the order carries, in the order they were entered.
  std::vector<const Coupon*> entered;
  for (const std::string& code : draft.coupon_codes()) {
    const Coupon* coupon = Find(Upper(code));
    if (coupon == nullptr) {
      return absl::FailedPreconditionError(StrCat("unknown coupon code \"", code, "\""));
    }
    if (std::find(entered.begin(), entered.end(), coupon) == entered.end()) {
      entered.push_back(coupon);
    }
  }
  if (!stackable_ && entered.size() > 1) {
    return absl::FailedPreconditionError(StrCat("coupons ", entered[0]->code, " and ",
                                                entered[1]->code, " cannot be combined"));
  }
  // Recompute from scratch: the lines may have changed since the last run.
  for (const Coupon& coupon : coupons_) draft.RemoveDiscount(coupon.code);
  for (const Coupon* coupon : entered) POSD_RETURN_IF_ERROR(Apply(*coupon, draft));
  return absl::OkStatus();
}

absl::Status DiscountPlugin::Apply(const Coupon& coupon, hooks::OrderDraft& draft) const {
  const auto now = draft.now();
  if (coupon.valid_from && now < *coupon.valid_from) {
    return absl::FailedPreconditionError(
        StrCat("coupon ", coupon.code, " is valid from ", Rfc3339(*coupon.valid_from)));
  }
  if (coupon.valid_until && now >= *coupon.valid_until) {
    return absl::FailedPreconditionError(
        StrCat("coupon ", coupon.code, " expired at ", Rfc3339(*coupon.valid_until)));
  }
  if (coupon.max_uses > 0 && draft.CouponUses(coupon.code) >= coupon.max_uses) {
    return absl::FailedPreconditionError(
        StrCat("coupon ", coupon.code, " has been used up (", coupon.max_uses, " uses)"));
  }
  const core::Order& order = draft.order();
  const std::string_view currency = order.currency.code();
  POSD_ASSIGN_OR_RETURN(core::Money subtotal, order.Subtotal());
  if (auto it = coupon.minimum.find(currency); it != coupon.minimum.end() && subtotal < it->second) {
    return absl::FailedPreconditionError(StrCat("coupon ", coupon.code, " needs a subtotal of ",
                                                it->second.ToString(), ", the order has ",
                                                subtotal.ToString()));
  }
  // What the other discounts leave: a coupon never takes the order below zero.
  POSD_ASSIGN_OR_RETURN(core::Money remaining, order.Total());
  core::Money amount = core::Money::Zero(order.currency);
  if (coupon.percent_bp > 0) {
    POSD_ASSIGN_OR_RETURN(amount, subtotal.PercentOf(coupon.percent_bp));
  } else {
    auto it = coupon.fixed.find(currency);
    if (it == coupon.fixed.end()) {
      return absl::FailedPreconditionError(
          StrCat("coupon ", coupon.code, " is not valid for orders in ", currency));
    }
    amount = it->second;
  }
  if (amount > remaining) amount = remaining;
  if (!amount.is_positive()) return absl::OkStatus();  // nothing to take off (empty order)
  return draft.SetDiscount(core::Discount{.code = coupon.code, .amount = amount},
                           coupon.description);
}

namespace {

class DiscountPluginFactory final : public hooks::TypedPluginFactory<discount::DiscountSettings> {
 public:
  std::string_view name() const override { return DiscountPlugin::kName; }
  std::string_view description() const override {
    return "Coupon codes: percentage or fixed discounts with validity, minimums and use limits";
  }
  std::vector<hooks::HookPoint> hook_points() const override {
    return {hooks::HookPoint::kBeforeOrder};
  }

 protected:
  absl::StatusOr<std::unique_ptr<hooks::Plugin>> CreateFromSettings(
      const discount::DiscountSettings& settings) const override {
    POSD_ASSIGN_OR_RETURN(std::unique_ptr<DiscountPlugin> plugin, DiscountPlugin::Create(settings));
    return std::unique_ptr<hooks::Plugin>(std::move(plugin));
  }
};

POSD_REGISTER_PLUGIN(DiscountPluginFactory);

}  // namespace
}  // namespace posd::plugins
