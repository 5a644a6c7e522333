// String helpers that bridge std::string_view and Debian's Abseil.
//
// Debian 12 builds Abseil with its own absl::string_view (not an alias of
// std::string_view), so absl::StrCat rejects std::string_view arguments and
// Status::message() is not a std::string_view. posd's interfaces use the std
// type; these helpers keep call sites short.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace posd {

inline absl::string_view ToAbsl(std::string_view text) { return {text.data(), text.size()}; }
inline std::string_view ToStd(absl::string_view text) { return {text.data(), text.size()}; }

namespace strings_internal {
template <typename T>
decltype(auto) Bridge(T&& value) {
  if constexpr (std::is_convertible_v<T, std::string_view> &&
                !std::is_convertible_v<T, absl::string_view>) {
    return ToAbsl(std::string_view(value));
  } else {
    return std::forward<T>(value);
  }
}
}  // namespace strings_internal

// absl::StrCat that also accepts std::string_view.
template <typename... Args>
std::string StrCat(Args&&... args) {
  return absl::StrCat(strings_internal::Bridge(std::forward<Args>(args))...);
}

}  // namespace posd
