#include "service/core/money.h"

#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/currency.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/core/test_values.h"

namespace posd::core {
namespace {

using ::posd::core::testing::Eur;
using ::posd::core::testing::Jpy;
using ::posd::core::testing::Kwd;
using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(CurrencyCodeTest, KnowsExponents) {
  EXPECT_EQ(Eur().exponent(), 2);
  EXPECT_EQ(Jpy().exponent(), 0);
  EXPECT_EQ(Kwd().exponent(), 3);
  EXPECT_EQ(Eur().code(), "EUR");
}

TEST(CurrencyCodeTest, RefusesMalformedAndUnknownCodes) {
  for (std::string_view bad : {"", "EU", "EURO", "eur", "Eur", "E1R", "EU ", "€"}) {
    EXPECT_THAT(CurrencyCode::Parse(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("three upper-case")))
        << bad;
  }
  EXPECT_THAT(CurrencyCode::Parse("XYZ"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown currency 'XYZ'")));
}

TEST(CurrencyCodeTest, EveryKnownCurrencyParses) {
  ASSERT_GE(KnownCurrencies().size(), 30u);
  for (const CurrencyInfo& info : KnownCurrencies()) {
    absl::StatusOr<CurrencyCode> code = CurrencyCode::Parse(info.code);
    ASSERT_THAT(code, IsOk()) << info.code;
    EXPECT_EQ(code->exponent(), info.exponent);
  }
}

TEST(MoneyTest, AddsAndSubtracts) {
  EXPECT_EQ(*Eur(1234).Add(Eur(66)), Eur(1300));
  EXPECT_EQ(*Eur(100).Subtract(Eur(250)), Eur(-150));
}

TEST(MoneyTest, RefusesMixedCurrencies) {
  EXPECT_THAT(Eur(100).Add(Jpy(100)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("currencies differ")));
  EXPECT_THAT(Eur(100).Subtract(Jpy(100)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MoneyTest, ReportsOverflowAsOutOfRange) {
  EXPECT_THAT(Eur(kMax).Add(Eur(1)), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Eur(kMin).Subtract(Eur(1)), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Eur(kMin).Add(Eur(-1)), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Eur(kMax).Subtract(Eur(-1)), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(*Eur(kMax).Add(Eur(0)), Eur(kMax));
  EXPECT_EQ(*Eur(kMax - 1).Add(Eur(1)), Eur(kMax));
}

TEST(MoneyTest, Multiplies) {
  EXPECT_EQ(*Eur(250).Multiply(3), Eur(750));
  EXPECT_EQ(*Eur(250).Multiply(0), Eur(0));
  EXPECT_EQ(*Eur(250).Multiply(-2), Eur(-500));
  EXPECT_THAT(Eur(kMax / 2 + 1).Multiply(2), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Eur(kMin).Multiply(-1), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Eur(3).Multiply(kMax), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(MoneyTest, PercentRoundsHalfAwayFromZero) {
  EXPECT_EQ(*Eur(1000).PercentOf(1000), Eur(100));  // 10 % of 10.00
  EXPECT_EQ(*Eur(5).PercentOf(1000), Eur(1));       // 0.5 -> 1
  EXPECT_EQ(*Eur(15).PercentOf(1000), Eur(2));      // 1.5 -> 2
  EXPECT_EQ(*Eur(25).PercentOf(1000), Eur(3));      // 2.5 -> 3 (banker's would give 2)
  EXPECT_EQ(*Eur(24).PercentOf(1000), Eur(2));      // 2.4 -> 2
  EXPECT_EQ(*Eur(1).PercentOf(4999), Eur(0));       // 0.4999 -> 0
  EXPECT_EQ(*Eur(1).PercentOf(5000), Eur(1));       // 0.5 -> 1
  EXPECT_EQ(*Eur(-5).PercentOf(1000), Eur(-1));     // -0.5 -> -1
  EXPECT_EQ(*Eur(-24).PercentOf(1000), Eur(-2));
  EXPECT_EQ(*Eur(1999).PercentOf(1900), Eur(380));  // 19 % VAT of 19.99 = 3.7981
  EXPECT_EQ(*Eur(777).PercentOf(0), Eur(0));
  EXPECT_EQ(*Eur(777).PercentOf(10000), Eur(777));
  EXPECT_EQ(*Eur(kMax).PercentOf(10000), Eur(kMax));  // no intermediate overflow
  EXPECT_EQ(*Eur(kMin).PercentOf(10000), Eur(kMin));
  EXPECT_EQ(*Eur(kMax).PercentOf(5000), Eur(kMax / 2 + 1));  // x.5 rounds up
}

TEST(MoneyTest, PercentRefusesNegativeAndOverflow) {
  EXPECT_THAT(Eur(100).PercentOf(-1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Eur(kMax).PercentOf(10001), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Eur(kMax).PercentOf(kMax), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(MoneyTest, ComparesWithinACurrencyOnly) {
  EXPECT_LT(Eur(1), Eur(2));
  EXPECT_GE(Eur(2), Eur(2));
  EXPECT_EQ(Eur(2), Eur(2));
  EXPECT_NE(Eur(2), Jpy(2));
  // Different currencies are unordered: every relation is false.
  EXPECT_FALSE(Eur(1) < Jpy(2));
  EXPECT_FALSE(Eur(1) > Jpy(2));
  EXPECT_FALSE(Eur(1) <= Jpy(1));
  EXPECT_FALSE(Eur(1) >= Jpy(1));
  EXPECT_EQ(Eur(1) <=> Jpy(1), std::partial_ordering::unordered);
}

TEST(MoneyTest, FormatsForPeople) {
  EXPECT_EQ(Eur(1234).ToString(), "12.34 EUR");
  EXPECT_EQ(Eur(5).ToString(), "0.05 EUR");
  EXPECT_EQ(Eur(-5).ToString(), "-0.05 EUR");
  EXPECT_EQ(Eur(0).ToString(), "0.00 EUR");
  EXPECT_EQ(Eur(123456789).ToString(), "1,234,567.89 EUR");
  EXPECT_EQ(Eur(100000).ToString(), "1,000.00 EUR");
  EXPECT_EQ(Jpy(1200).ToString(), "1,200 JPY");
  EXPECT_EQ(Jpy(999).ToString(), "999 JPY");
  EXPECT_EQ(Money(1234567890, Kwd()).ToString(), "1,234,567.890 KWD");
  EXPECT_EQ(Eur(kMin).ToString(), "-92,233,720,368,547,758.08 EUR");
  EXPECT_EQ(Eur(kMax).ToString(), "92,233,720,368,547,758.07 EUR");
}

TEST(MoneyTest, ParsesDecimalStrings) {
  EXPECT_EQ(*Money::Parse("12.34", Eur()), Eur(1234));
  EXPECT_EQ(*Money::Parse("12.3", Eur()), Eur(1230));
  EXPECT_EQ(*Money::Parse("12", Eur()), Eur(1200));
  EXPECT_EQ(*Money::Parse("0.05", Eur()), Eur(5));
  EXPECT_EQ(*Money::Parse("-0.50", Eur()), Eur(-50));
  EXPECT_EQ(*Money::Parse("007", Eur()), Eur(700));
  EXPECT_EQ(*Money::Parse("1200", Jpy()), Jpy(1200));
  EXPECT_EQ(*Money::Parse("1.234", Kwd()), Money(1234, Kwd()));
  EXPECT_EQ(*Money::Parse("92233720368547758.07", Eur()), Eur(kMax));
}

TEST(MoneyTest, ParseRefusesTooManyDecimals) {
  EXPECT_THAT(Money::Parse("12.345", Eur()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 2 decimal")));
  EXPECT_THAT(Money::Parse("12.340", Eur()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Money::Parse("12.5", Jpy()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Money::Parse("1.2345", Kwd()), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MoneyTest, ParseRefusesMalformedInput) {
  for (std::string_view bad : {"", "-", ".", "1.", ".5", "+1", " 1", "1 ", "1,000", "1e3",
                               "1.2.3", "--1", "12.3a", "abc", "1_000", "0x10"}) {
    EXPECT_THAT(Money::Parse(bad, Eur()), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(MoneyTest, ParseReportsOverflowAsOutOfRange) {
  EXPECT_THAT(Money::Parse("92233720368547758.08", Eur()),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Money::Parse("99999999999999999999", Jpy()),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(MoneyTest, FormatAndParseRoundTripWithoutGrouping) {
  for (int64_t minor : {int64_t{0}, int64_t{1}, int64_t{99}, int64_t{100}, int64_t{-1234567},
                        kMax}) {
    std::string text = Eur(minor).ToString();
    text.erase(text.size() - 4);  // " EUR"
    std::erase(text, ',');
    EXPECT_EQ(*Money::Parse(text, Eur()), Eur(minor)) << text;
  }
}

TEST(MoneyTest, SumsSpans) {
  std::vector<Money> amounts = {Eur(100), Eur(250), Eur(-50)};
  EXPECT_EQ(*Sum(Eur(), amounts), Eur(300));
  EXPECT_EQ(*Sum(Eur(), {}), Eur(0));
  amounts.push_back(Jpy(1));
  EXPECT_THAT(Sum(Eur(), amounts), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<Money> huge = {Eur(kMax), Eur(1)};
  EXPECT_THAT(Sum(Eur(), huge), StatusIs(absl::StatusCode::kOutOfRange));
}

}  // namespace
}  // namespace posd::core
