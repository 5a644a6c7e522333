#include "service/core/card_data.h"

#include <algorithm>
#include <ostream>

#include "service/common/strings.h"

namespace posd::core {
namespace {

constexpr std::size_t kMinLength = 12;
constexpr std::size_t kMaxLength = 19;
constexpr std::size_t kVisibleHead = 6;
constexpr std::size_t kVisibleTail = 4;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

absl::StatusOr<MaskedPan> MaskedPan::Parse(std::string_view text) {
  if (!std::all_of(text.begin(), text.end(), [](char c) { return IsDigit(c) || c == '*'; })) {
    return absl::InvalidArgumentError("masked PAN may contain only digits and '*'");
  }
  if (std::all_of(text.begin(), text.end(), IsDigit) && text.size() >= kMinLength) {
    return absl::InvalidArgumentError(
        "masked PAN looks like a full card number; posd never accepts unmasked PANs");
  }
  if (text.size() < kMinLength || text.size() > kMaxLength) {
    return absl::InvalidArgumentError(posd::StrCat("masked PAN must be ", kMinLength, " to ",
                                                   kMaxLength, " characters, got ",
                                                   text.size()));
  }
  for (std::size_t i = kVisibleHead; i < text.size() - kVisibleTail; ++i) {
    if (text[i] != '*') {
      return absl::InvalidArgumentError(posd::StrCat(
          "masked PAN shows a digit at position ", i + 1,
          "; only the first 6 and last 4 digits may be visible"));
    }
  }
  return MaskedPan(std::string(text));
}

std::ostream& operator<<(std::ostream& os, const MaskedPan& pan) { return os << pan.str(); }

}  // namespace posd::core
