// absl::StrCat that also takes std::string_view. Debian 12's Abseil is built
// with its own absl::string_view, which std::string_view does not convert to.
// Internal to posd_transport.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace posd::transport {
namespace str_cat_internal {

inline absl::string_view Adapt(std::string_view text) { return {text.data(), text.size()}; }

template <typename T>
requires(!std::is_same_v<T, std::string_view>) const T& Adapt(const T& value) { return value; }

}  // namespace str_cat_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(str_cat_internal::Adapt(args)...);
}

}  // namespace posd::transport
