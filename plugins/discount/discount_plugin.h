// The "discount" plugin: coupon codes that take a percentage or a fixed
// amount off an order (beforeOrder). Settings: discount_settings.proto and
// README.md.
//
// Thread safety: immutable after Create; safe from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "plugins/discount/discount_settings.pb.h"
#include "service/core/money.h"
#include "service/hooks/plugin.h"

namespace posd::plugins {

class DiscountPlugin final : public hooks::Plugin {
 public:
  static constexpr std::string_view kName = "discount";

  // INVALID_ARGUMENT naming the plugin and the coupon for bad settings.
  static absl::StatusOr<std::unique_ptr<DiscountPlugin>> Create(
      const discount::DiscountSettings& settings);

  std::string_view name() const override { return kName; }
  std::vector<hooks::HookPoint> hook_points() const override {
    return {hooks::HookPoint::kBeforeOrder};
  }

  // Grants the discount of every coupon code on the order, recomputed on each
  // change, and withdraws the discounts of codes no longer on it. Vetoes
  // (FAILED_PRECONDITION) an unknown code, a code outside its validity
  // period, used up, below its minimum or without an amount in the order's
  // currency, and a second coupon unless stackable.
  absl::Status BeforeOrder(hooks::OrderDraft& draft) override;

 private:
  struct Coupon {
    std::string code;  // upper case
    std::string description;
    int64_t percent_bp = 0;  // 0 when fixed
    std::map<std::string, core::Money, std::less<>> fixed = {};    // by currency code
    std::map<std::string, core::Money, std::less<>> minimum = {};  // by currency code
    int64_t max_uses = 0;
    std::optional<std::chrono::system_clock::time_point> valid_from = {};
    std::optional<std::chrono::system_clock::time_point> valid_until = {};
  };

  DiscountPlugin(std::vector<Coupon> coupons, bool stackable)
      : coupons_(std::move(coupons)), stackable_(stackable) {}
  const Coupon* Find(std::string_view upper_code) const;
  absl::Status Apply(const Coupon& coupon, hooks::OrderDraft& draft) const;

  std::vector<Coupon> coupons_;
  bool stackable_;
};

}  // namespace posd::plugins
