// Reading what posctl printed, for tests that drive it as a process.
#pragma once

#include <cctype>
#include <string>

namespace posd::testing {

// The first payment id ("pay_01J...") in posctl's output, or "".
inline std::string PaymentIdIn(const std::string& posctl_output) {
  const size_t at = posctl_output.find("pay_");
  if (at == std::string::npos) return "";
  size_t end = at + 4;
  while (end < posctl_output.size() &&
         std::isalnum(static_cast<unsigned char>(posctl_output[end]))) {
    ++end;
  }
  return posctl_output.substr(at, end - at);
}

}  // namespace posd::testing
