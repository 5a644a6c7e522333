#include "service/hooks/order_draft.h"

#include <algorithm>

#include "service/common/status_macros.h"
#include "service/common/strings.h"

namespace posd::hooks {

bool OrderDraft::HasCouponCode(std::string_view code) const {
  return std::find(coupon_codes_.begin(), coupon_codes_.end(), code) != coupon_codes_.end();
}

int64_t OrderDraft::CouponUses(std::string_view code) const {
  auto it = coupon_uses_.find(code);
  return it == coupon_uses_.end() ? 0 : it->second;
}

absl::Status OrderDraft::SetDiscount(core::Discount discount, std::string description) {
  if (discount.code.empty()) return absl::InvalidArgumentError("a discount needs a code");
  if (!discount.amount.is_positive()) {
    return absl::InvalidArgumentError(
        StrCat("discount ", discount.code, " must be positive, not ", discount.amount.ToString()));
  }
  if (discount.amount.currency() != order_.currency) {
    return absl::InvalidArgumentError(StrCat("discount ", discount.code, " is in ",
                                             discount.amount.currency().code(),
                                             ", the order in ", order_.currency.code()));
  }
  core::Order candidate = order_;
  auto same_code = [&](const core::Discount& d) { return d.code == discount.code; };
  auto it = std::find_if(candidate.discounts.begin(), candidate.discounts.end(), same_code);
  const std::string code = discount.code;
  if (it != candidate.discounts.end()) {
    *it = std::move(discount);
  } else {
    candidate.discounts.push_back(std::move(discount));
  }
  absl::Status valid = candidate.Validate();
  if (absl::IsInvalidArgument(valid)) {
    // The discount itself was checked above, so what remains is the sum of
    // discounts exceeding the subtotal: a business rule, not a bad argument.
    return absl::FailedPreconditionError(
        StrCat("discount ", code, " would exceed the order's subtotal: ", valid.message()));
  }
  POSD_RETURN_IF_ERROR(valid);
  order_ = std::move(candidate);
  DiscountGrant grant{.code = code, .plugin = acting_plugin_, .description = std::move(description)};
  auto g = std::find_if(grants_.begin(), grants_.end(),
                        [&](const DiscountGrant& existing) { return existing.code == code; });
  if (g != grants_.end()) {
    *g = std::move(grant);
  } else {
    grants_.push_back(std::move(grant));
  }
  return absl::OkStatus();
}

bool OrderDraft::RemoveDiscount(std::string_view code) {
  auto removed = std::erase_if(order_.discounts,
                               [&](const core::Discount& d) { return d.code == code; });
  std::erase_if(grants_, [&](const DiscountGrant& g) { return g.code == code; });
  return removed > 0;
}

}  // namespace posd::hooks
