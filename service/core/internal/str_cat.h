// absl::StrCat that also takes std::string_view.
//
// Debian 12's Abseil is built with its own absl::string_view, which
// absl::StrCat's AlphaNum does not accept from a std::string_view; posd's
// interfaces use std::string_view (TOOLCHAIN.md), so core funnels its message
// building through this adapter. A candidate for service/common.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace posd::core::internal {

inline absl::string_view ForAbsl(std::string_view s) { return {s.data(), s.size()}; }
template <typename T>
const T& ForAbsl(const T& value) {
  return value;
}

template <typename... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(ForAbsl(args)...);
}

}  // namespace posd::core::internal
