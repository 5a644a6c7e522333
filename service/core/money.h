// Money: an exact integer count of a currency's minor unit. Never floating
// point.
//
// Arithmetic is checked: combining two currencies is INVALID_ARGUMENT and
// leaving the int64 range is OUT_OF_RANGE, both as values, never as wrapped
// numbers. Amounts may be negative (a difference, an adjustment); whether a
// negative amount is acceptable is the caller's rule (orders, payments and
// refunds check it in their own Validate functions).
//
// Thread safety: a plain value; copy freely.
#pragma once

#include <compare>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/core/currency.h"

namespace posd::core {

// The largest magnitude posd accepts for one price, payment amount, tip,
// refund or charged amount: 999,999,999,999 minor units (9,999,999,999.99
// EUR, 999,999,999,999 JPY). It is nine thousand million times smaller than
// int64's range, so no sum of amounts a shop can record comes near overflow;
// every sum is checked anyway (Add, Sum). docs/api.md lists it.
inline constexpr int64_t kMaxAmountMinor = 999'999'999'999;

class Money {
 public:
  Money(int64_t minor_units, CurrencyCode currency)
      : minor_units_(minor_units), currency_(currency) {}
  static Money Zero(CurrencyCode currency) { return Money(0, currency); }

  // Parses a plain decimal amount in the currency's major unit: "12.34",
  // "12.3", "12", "-0.50". The number of decimals may not exceed the
  // currency's exponent ("12.345" EUR or "12.5" JPY are INVALID_ARGUMENT, not
  // rounded: a silently rounded amount is a wrong charge). No exponent
  // notation, grouping, spaces or '+'. OUT_OF_RANGE if it does not fit.
  static absl::StatusOr<Money> Parse(std::string_view decimal, CurrencyCode currency);

  int64_t minor_units() const { return minor_units_; }
  CurrencyCode currency() const { return currency_; }
  bool is_zero() const { return minor_units_ == 0; }
  bool is_positive() const { return minor_units_ > 0; }
  bool is_negative() const { return minor_units_ < 0; }

  // Checked: INVALID_ARGUMENT for another currency, OUT_OF_RANGE when the
  // result leaves int64's range.
  absl::StatusOr<Money> Add(const Money& other) const;
  absl::StatusOr<Money> Subtract(const Money& other) const;
  // The amount times `quantity` (any sign). OUT_OF_RANGE on overflow.
  absl::StatusOr<Money> Multiply(int64_t quantity) const;
  // `basis_points` / 10000 of the amount (1000 = 10 %, 10000 = 100 %),
  // rounded to the nearest minor unit with ties away from zero ("half up" as
  // a receipt reader expects: 0.5 cent -> 1 cent, -0.5 cent -> -1 cent).
  // Chosen over banker's rounding because each discount or tax line is
  // rounded once and shown to the customer, not accumulated in bulk.
  // INVALID_ARGUMENT for negative basis points, OUT_OF_RANGE on overflow.
  absl::StatusOr<Money> PercentOf(int64_t basis_points) const;

  // For people: "12.34 EUR", "1,200 JPY", "-0.05 EUR", "1,234,567.890 KWD".
  // Groups of three digits separated by ',', '.' before the minor unit. Not
  // localized: UIs format for their locale from minor_units() themselves.
  std::string ToString() const;

  // Equal when both the amount and the currency are equal.
  friend bool operator==(const Money&, const Money&) = default;
  // Amounts of one currency are ordered; amounts of different currencies are
  // unordered, so every relational operator between them is false.
  friend std::partial_ordering operator<=>(const Money& a, const Money& b) {
    if (a.currency_ != b.currency_) return std::partial_ordering::unordered;
    return a.minor_units_ <=> b.minor_units_;
  }

 private:
  int64_t minor_units_;
  CurrencyCode currency_;
};

std::ostream& operator<<(std::ostream& os, const Money& money);

// Whether |money| <= kMaxAmountMinor. INVALID_ARGUMENT naming `field` (e.g.
// "payment.tip") otherwise: an amount no till could mean is a malformed
// request, refused before anything is recorded or sent to a terminal.
absl::Status CheckAmountLimit(const Money& money, std::string_view field);

// The sum of `amounts`, each of which must be in `currency` (INVALID_ARGUMENT
// otherwise); OUT_OF_RANGE on overflow. An empty span sums to zero.
absl::StatusOr<Money> Sum(CurrencyCode currency, std::span<const Money> amounts);

}  // namespace posd::core
