#include "service/hooks/payment_draft.h"

#include "service/common/status_macros.h"
#include "service/common/strings.h"

namespace posd::hooks {

std::optional<std::string_view> PaymentDraft::parameter(std::string_view key) const {
  auto it = parameters_.find(key);
  if (it == parameters_.end()) return std::nullopt;
  return std::string_view(it->second);
}

absl::Status PaymentDraft::SetTip(core::Money tip) {
  if (tip.currency() != payment_.currency()) {
    return absl::InvalidArgumentError(StrCat("tip is in ", tip.currency().code(),
                                             ", the payment in ", payment_.currency().code()));
  }
  if (tip.is_negative()) {
    return absl::InvalidArgumentError(StrCat("tip may not be negative: ", tip.ToString()));
  }
  POSD_RETURN_IF_ERROR(payment_.amount.Add(tip).status());
  payment_.tip = tip;
  return absl::OkStatus();
}

}  // namespace posd::hooks
