#include "service/core/order.h"

#include <limits>

#include "gmock/gmock.h"
#include "service/common/error_info.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/core/test_values.h"

namespace posd::core {
namespace {

using ::posd::core::testing::Eur;
using ::posd::core::testing::Jpy;
using ::posd::core::testing::TestId;
using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

Order Lunch() {
  return Order{
      .id = TestId<IdKind::kOrder>(1),
      .currency = Eur(),
      .lines = {{.sku = "COF", .name = "Coffee", .quantity = 2, .unit_price = Eur(350)},
                {.sku = "CAK", .name = "Cake", .quantity = 1, .unit_price = Eur(420)},
                {.sku = "WAT", .name = "Water", .quantity = 3, .unit_price = Eur(0)}},
  };
}

TEST(OrderTest, ComputesSubtotalAndTotal) {
  Order order = Lunch();
  EXPECT_EQ(order.state, OrderState::kOpen);
  EXPECT_EQ(*order.Subtotal(), Eur(1120));
  EXPECT_EQ(*order.Total(), Eur(1120));
  order.discounts.push_back({.code = "STAFF10", .amount = *Eur(1120).PercentOf(1000)});
  EXPECT_EQ(*order.Total(), Eur(1008));
  EXPECT_THAT(order.Validate(), IsOk());
}

TEST(OrderTest, EmptyOrderTotalsZero) {
  Order order{.id = TestId<IdKind::kOrder>(2), .currency = Jpy()};
  EXPECT_EQ(*order.Total(), Jpy(0));
}

TEST(OrderTest, RefusesInvalidLines) {
  Order order = Lunch();
  order.lines[1].quantity = 0;
  EXPECT_THAT(order.Total(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2 ('CAK')")));
  order = Lunch();
  order.lines[0].quantity = -1;
  EXPECT_THAT(order.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("> 0")));
  order = Lunch();
  order.lines[0].sku.clear();
  EXPECT_THAT(order.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sku")));
  order = Lunch();
  order.lines[2].unit_price = Jpy(100);
  EXPECT_THAT(order.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("order's currency")));
  order = Lunch();
  order.lines[2].unit_price = Eur(-1);
  EXPECT_THAT(order.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("negative")));
}

TEST(OrderTest, RefusesInvalidDiscounts) {
  Order order = Lunch();
  order.discounts = {{.code = "BIG", .amount = Eur(1121)}};
  EXPECT_THAT(order.Total(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceed the subtotal")));
  order.discounts = {{.code = "ALL", .amount = Eur(1120)}};
  EXPECT_EQ(*order.Total(), Eur(0));
  order.discounts = {{.code = "", .amount = Eur(1)}};
  EXPECT_THAT(order.Total(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("code")));
  order.discounts = {{.code = "ZERO", .amount = Eur(0)}};
  EXPECT_THAT(order.Total(), StatusIs(absl::StatusCode::kInvalidArgument));
  order.discounts = {{.code = "YEN", .amount = Jpy(1)}};
  EXPECT_THAT(order.Total(), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Amounts are bounded (kMaxAmountMinor), so an order that would overflow is
// a malformed request naming its field, never a wrapped total.
TEST(OrderTest, RefusesAmountsBeyondTheLimitNamingTheField) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Order order = Lunch();
  order.lines[0].quantity = kMax;
  EXPECT_THAT(order.Total(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(GetErrorDetails(order.Total().status())->metadata.at("field"),
            "order.lines[0].quantity");
  order = Lunch();
  order.lines[0] = {.sku = "A", .name = "A", .quantity = 1, .unit_price = Eur(kMax)};
  EXPECT_THAT(order.Total(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(GetErrorDetails(order.Total().status())->metadata.at("field"),
            "order.lines[0].unit_price");
  // Exactly at the limit is fine; one more minor unit is not.
  order = Lunch();
  order.lines = {{.sku = "A", .name = "A", .quantity = 1, .unit_price = Eur(kMaxAmountMinor)}};
  EXPECT_THAT(order.Total(), IsOk());
  order.lines[0].unit_price = Eur(kMaxAmountMinor + 1);
  EXPECT_THAT(order.Total(), StatusIs(absl::StatusCode::kInvalidArgument));
  // Lines each within the limit whose sum is not.
  order.lines = {{.sku = "A", .name = "A", .quantity = 1, .unit_price = Eur(kMaxAmountMinor)},
                 {.sku = "B", .name = "B", .quantity = 1, .unit_price = Eur(1)}};
  EXPECT_THAT(order.Subtotal(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(GetErrorDetails(order.Subtotal().status())->metadata.at("field"), "order.lines");
}

}  // namespace
}  // namespace posd::core
