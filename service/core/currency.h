// ISO 4217 currency codes that posd knows, each with its minor-unit exponent.
//
// A CurrencyCode always names a currency from the built-in table: without the
// exponent posd could neither parse "12.34" nor print an amount, so an
// unknown code is refused where it enters (INVALID_ARGUMENT) rather than
// carried around half-valid.
//
// Thread safety: a plain value; copy freely.
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace posd::core {

class CurrencyCode {
 public:
  // Accepts exactly three upper-case ASCII letters naming a currency of the
  // built-in table. INVALID_ARGUMENT otherwise (wrong shape, lower case, or a
  // well-formed code posd does not know).
  static absl::StatusOr<CurrencyCode> Parse(std::string_view code);

  // The three letters, e.g. "EUR".
  std::string_view code() const { return std::string_view(code_.data(), code_.size()); }
  // Number of decimal digits of the minor unit: EUR 2, JPY 0, KWD 3.
  int exponent() const { return exponent_; }

  friend bool operator==(const CurrencyCode&, const CurrencyCode&) = default;

 private:
  CurrencyCode(std::array<char, 3> code, int8_t exponent) : code_(code), exponent_(exponent) {}

  std::array<char, 3> code_;
  int8_t exponent_;
};

std::ostream& operator<<(std::ostream& os, const CurrencyCode& currency);

// One row of the built-in table.
struct CurrencyInfo {
  std::string_view code;
  int exponent;
};

// Every currency posd knows, sorted by code. The exponents are ISO 4217's
// (HUF and TWD have 2 there even though cash has none).
std::span<const CurrencyInfo> KnownCurrencies();

}  // namespace posd::core
