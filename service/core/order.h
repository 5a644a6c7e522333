// An order: what is being sold, for how much, and where it stands.
//
// A plain value type. The total is not stored but computed (Total()), so it
// can never disagree with the lines and discounts it comes from; computing it
// also checks the order's invariants.
//
// Fields with a default ("= {}") may be left out of a designated
// initializer; the others (ids, money, quantities) must be given.
//
// Thread safety: a plain value; copy freely, synchronise shared mutation.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/core/currency.h"
#include "service/core/ids.h"
#include "service/core/money.h"
#include "service/core/order_state_machine.h"

namespace posd::core {

struct OrderLine {
  std::string sku;   // the shop's article code; required
  std::string name = {};  // for receipts and UIs
  int64_t quantity;  // > 0; returns are refunds, not negative lines
  Money unit_price;  // >= 0 (0 for a free item), in the order's currency

  // unit_price × quantity; OUT_OF_RANGE on overflow.
  absl::StatusOr<Money> Total() const { return unit_price.Multiply(quantity); }

  friend bool operator==(const OrderLine&, const OrderLine&) = default;
};

// A discount granted on the whole order (by an operator or a beforeOrder /
// beforePayment hook). A fixed amount: a percentage discount is computed with
// Money::PercentOf by whoever grants it, so the order records exactly what
// the customer saw.
struct Discount {
  std::string code;  // what granted it, e.g. "STAFF10"; required
  Money amount;      // > 0, in the order's currency

  friend bool operator==(const Discount&, const Discount&) = default;
};

struct Order {
  OrderId id;
  CurrencyCode currency;
  OrderState state = OrderState::kOpen;
  std::vector<OrderLine> lines = {};
  std::vector<Discount> discounts = {};
  std::chrono::system_clock::time_point created_at = {};
  std::chrono::system_clock::time_point updated_at = {};

  // Sum of the line totals. INVALID_ARGUMENT for an invalid line (empty sku,
  // quantity <= 0, negative price, other currency) and for a unit price, line
  // total or subtotal above kMaxAmountMinor (so no sum can overflow).
  absl::StatusOr<Money> Subtotal() const;
  // Subtotal minus discounts: what the customer owes. Also checks the
  // discounts; INVALID_ARGUMENT when they exceed the subtotal.
  absl::StatusOr<Money> Total() const;
  // OK when every invariant above holds.
  absl::Status Validate() const { return Total().status(); }

  friend bool operator==(const Order&, const Order&) = default;
};

}  // namespace posd::core
