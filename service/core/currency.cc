#include "service/core/currency.h"

#include <algorithm>
#include <ostream>

#include "service/common/strings.h"

namespace posd::core {
namespace {

// Common currencies of the markets a POS box is sold into. Adding one is a
// one-line change; keep the list sorted (checked below) so lookups can bisect.
constexpr CurrencyInfo kCurrencies[] = {
    {"AED", 2}, {"ARS", 2}, {"AUD", 2}, {"BGN", 2}, {"BHD", 3}, {"BRL", 2}, {"CAD", 2},
    {"CHF", 2}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"CZK", 2}, {"DKK", 2}, {"EGP", 2},
    {"EUR", 2}, {"GBP", 2}, {"HKD", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
    {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KRW", 0}, {"KWD", 3},
    {"LYD", 3}, {"MAD", 2}, {"MXN", 2}, {"MYR", 2}, {"NGN", 2}, {"NOK", 2}, {"NZD", 2},
    {"OMR", 3}, {"PEN", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2},
    {"RON", 2}, {"RSD", 2}, {"SAR", 2}, {"SEK", 2}, {"SGD", 2}, {"THB", 2}, {"TND", 3},
    {"TRY", 2}, {"TWD", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYU", 2}, {"VND", 0},
    {"XAF", 0}, {"XOF", 0}, {"ZAR", 2},
};

constexpr bool IsSortedAndValid() {
  for (std::size_t i = 0; i < std::size(kCurrencies); ++i) {
    if (kCurrencies[i].code.size() != 3) return false;
    if (kCurrencies[i].exponent < 0 || kCurrencies[i].exponent > 4) return false;
    if (i > 0 && !(kCurrencies[i - 1].code < kCurrencies[i].code)) return false;
  }
  return true;
}
static_assert(IsSortedAndValid(), "kCurrencies must be sorted, unique, with exponents 0..4");

bool IsUpperAsciiLetter(char c) { return c >= 'A' && c <= 'Z'; }

}  // namespace

absl::StatusOr<CurrencyCode> CurrencyCode::Parse(std::string_view code) {
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), IsUpperAsciiLetter)) {
    return absl::InvalidArgumentError(posd::StrCat(
        "currency code must be three upper-case letters (ISO 4217), got '", code, "'"));
  }
  const auto* it = std::lower_bound(
      std::begin(kCurrencies), std::end(kCurrencies), code,
      [](const CurrencyInfo& info, std::string_view c) { return info.code < c; });
  if (it == std::end(kCurrencies) || it->code != code) {
    return absl::InvalidArgumentError(posd::StrCat("unknown currency '", code, "'"));
  }
  return CurrencyCode({code[0], code[1], code[2]}, static_cast<int8_t>(it->exponent));
}

std::ostream& operator<<(std::ostream& os, const CurrencyCode& currency) {
  return os << currency.code();
}

std::span<const CurrencyInfo> KnownCurrencies() { return kCurrencies; }

}  // namespace posd::core
