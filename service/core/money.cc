#include "service/core/money.h"

#include <limits>
#include <ostream>

#include "service/common/error_info.h"
#include "service/common/strings.h"

namespace posd::core {
namespace {

absl::Status CurrencyMismatch(std::string_view verb, const Money& a, const Money& b) {
  return absl::InvalidArgumentError(posd::StrCat("cannot ", verb, " ", a.ToString(), " and ",
                                                 b.ToString(), ": currencies differ"));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Digits of `value` with a ',' between groups of three.
std::string GroupThousands(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

absl::StatusOr<Money> Money::Parse(std::string_view decimal, CurrencyCode currency) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(posd::StrCat("invalid amount '", decimal, "' for ",
                                                   currency.code(), ": ", why));
  };
  std::string_view rest = decimal;
  const bool negative = !rest.empty() && rest.front() == '-';
  if (negative) rest.remove_prefix(1);

  const std::size_t dot = rest.find('.');
  std::string_view whole = rest.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  if (whole.empty()) return invalid("expected digits before the decimal point");
  if (dot != std::string_view::npos && fraction.empty()) {
    return invalid("expected digits after the decimal point");
  }
  for (std::string_view part : {whole, fraction}) {
    for (char c : part) {
      if (!IsDigit(c)) return invalid("only digits, one '.' and a leading '-' are allowed");
    }
  }
  if (fraction.size() > static_cast<std::size_t>(currency.exponent())) {
    return invalid(posd::StrCat("at most ", currency.exponent(), " decimal(s) allowed"));
  }

  // Accumulate the magnitude in minor units, right-padding the fraction with
  // zeros up to the exponent ("12.3" EUR is 1230).
  int64_t minor = 0;
  auto push_digit = [&minor](int digit) {
    return !__builtin_mul_overflow(minor, int64_t{10}, &minor) &&
           !__builtin_add_overflow(minor, int64_t{digit}, &minor);
  };
  bool fits = true;
  for (char c : whole) fits = fits && push_digit(c - '0');
  for (int i = 0; i < currency.exponent(); ++i) {
    const int digit = i < static_cast<int>(fraction.size()) ? fraction[i] - '0' : 0;
    fits = fits && push_digit(digit);
  }
  if (!fits) {
    return absl::OutOfRangeError(
        posd::StrCat("amount '", decimal, "' ", currency.code(), " is too large"));
  }
  return Money(negative ? -minor : minor, currency);
}

absl::StatusOr<Money> Money::Add(const Money& other) const {
  if (currency_ != other.currency_) return CurrencyMismatch("add", *this, other);
  int64_t result;
  if (__builtin_add_overflow(minor_units_, other.minor_units_, &result)) {
    return absl::OutOfRangeError(
        posd::StrCat("adding ", ToString(), " and ", other.ToString(), " overflows"));
  }
  return Money(result, currency_);
}

absl::StatusOr<Money> Money::Subtract(const Money& other) const {
  if (currency_ != other.currency_) return CurrencyMismatch("subtract", *this, other);
  int64_t result;
  if (__builtin_sub_overflow(minor_units_, other.minor_units_, &result)) {
    return absl::OutOfRangeError(
        posd::StrCat("subtracting ", other.ToString(), " from ", ToString(), " overflows"));
  }
  return Money(result, currency_);
}

absl::StatusOr<Money> Money::Multiply(int64_t quantity) const {
  int64_t result;
  if (__builtin_mul_overflow(minor_units_, quantity, &result)) {
    return absl::OutOfRangeError(
        posd::StrCat("multiplying ", ToString(), " by ", quantity, " overflows"));
  }
  return Money(result, currency_);
}

absl::StatusOr<Money> Money::PercentOf(int64_t basis_points) const {
  if (basis_points < 0) {
    return absl::InvalidArgumentError(
        posd::StrCat("a percentage must be 0 or more basis points, got ", basis_points));
  }
  // |amount| * bps < 2^63 * 2^63 = 2^126 fits in a signed 128-bit integer.
  constexpr __int128 kDenominator = 10'000;
  const __int128 product = static_cast<__int128>(minor_units_) * basis_points;
  const __int128 magnitude = product < 0 ? -product : product;
  __int128 rounded = (magnitude + kDenominator / 2) / kDenominator;  // ties away from zero
  if (product < 0) rounded = -rounded;
  if (rounded > std::numeric_limits<int64_t>::max() ||
      rounded < std::numeric_limits<int64_t>::min()) {
    return absl::OutOfRangeError(
        posd::StrCat(basis_points, " basis points of ", ToString(), " overflows"));
  }
  return Money(static_cast<int64_t>(rounded), currency_);
}

std::string Money::ToString() const {
  // Through uint64 so that INT64_MIN has a magnitude too.
  const uint64_t magnitude = minor_units_ < 0 ? 0 - static_cast<uint64_t>(minor_units_)
                                              : static_cast<uint64_t>(minor_units_);
  uint64_t scale = 1;
  for (int i = 0; i < currency_.exponent(); ++i) scale *= 10;
  std::string out = minor_units_ < 0 ? "-" : "";
  out += GroupThousands(magnitude / scale);
  if (currency_.exponent() > 0) {
    std::string fraction = std::to_string(magnitude % scale);
    out += '.';
    out.append(currency_.exponent() - fraction.size(), '0');
    out += fraction;
  }
  out += ' ';
  out += currency_.code();
  return out;
}

std::ostream& operator<<(std::ostream& os, const Money& money) {
  return os << money.ToString();
}

absl::Status CheckAmountLimit(const Money& money, std::string_view field) {
  const int64_t units = money.minor_units();
  if (units <= kMaxAmountMinor && units >= -kMaxAmountMinor) return absl::OkStatus();
  return posd::InvalidFieldError(field, posd::StrCat(
      field, " is ", money.ToString(), "; amounts are limited to ",
      Money(kMaxAmountMinor, money.currency()).ToString(), " (", kMaxAmountMinor,
      " minor units)"));
}

absl::StatusOr<Money> Sum(CurrencyCode currency, std::span<const Money> amounts) {
  Money total = Money::Zero(currency);
  for (const Money& amount : amounts) {
    absl::StatusOr<Money> next = total.Add(amount);
    if (!next.ok()) return next.status();
    total = *next;
  }
  return total;
}

}  // namespace posd::core
