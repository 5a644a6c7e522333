// Debian 12's Abseil is built with its own absl::string_view, not an alias of
// std::string_view, so absl::StrCat does not accept std::string_view. posd's
// interfaces use the std type; this converts at the call into Abseil.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace posd::store {

inline absl::string_view AbslView(std::string_view view) {
  return absl::string_view(view.data(), view.size());
}

}  // namespace posd::store
