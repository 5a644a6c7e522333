// posctl pay's --tip-preset and --param options, turned into
// CreatePaymentRequest.parameters (payments.proto). Pure; posd checks the
// bounds again and the plugins the values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace posd::posctl {

// `tip_preset` (empty: not given) becomes "tip.preset", the key the tip
// plugin reads; each of `params` is "key=value" (the value may be empty and
// may contain '='). INVALID_ARGUMENT, naming the option, for a preset that is
// not a non-negative whole number, a param without '=' or with an empty key,
// and a key given twice (also "tip.preset" by both options).
absl::StatusOr<std::map<std::string, std::string>> PaymentParameters(
    const std::string& tip_preset, const std::vector<std::string>& params);

}  // namespace posd::posctl
