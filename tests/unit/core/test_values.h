// Small builders shared by the core tests.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "service/core/currency.h"
#include "service/core/ids.h"
#include "service/core/money.h"
#include "service/core/order.h"
#include "service/core/payment.h"
#include "service/core/refund.h"

namespace posd::core::testing {

inline CurrencyCode Currency(std::string_view code) { return *CurrencyCode::Parse(code); }
inline CurrencyCode Eur() { return Currency("EUR"); }
inline CurrencyCode Jpy() { return Currency("JPY"); }
inline CurrencyCode Kwd() { return Currency("KWD"); }
inline Money Eur(int64_t minor) { return Money(minor, Eur()); }
inline Money Jpy(int64_t minor) { return Money(minor, Jpy()); }

// A valid id of kind K whose ULID ends with the decimal digits of `n`.
template <IdKind K>
TypedId<K> TestId(int n) {
  return *TypedId<K>::Parse(absl::StrFormat("%s01HF7YAT00%016d", std::string(IdPrefix(K)), n));
}

// An order in `state` with one line of `total_minor` EUR and no discounts.
inline Order EurOrder(int n, int64_t total_minor, OrderState state = OrderState::kPlaced) {
  return Order{
      .id = TestId<IdKind::kOrder>(n),
      .currency = Eur(),
      .state = state,
      .lines = {OrderLine{.sku = "SKU-1", .name = "Item", .quantity = 1,
                          .unit_price = Eur(total_minor)}},
  };
}

// A EUR payment of `order` (or a quick sale when null).
inline Payment EurPayment(int n, const Order* order, int64_t amount_minor, PaymentState state,
                          int64_t tip_minor = 0, int64_t refunded_minor = 0) {
  return Payment{
      .id = TestId<IdKind::kPayment>(n),
      .order_id = order ? std::optional<OrderId>(order->id) : std::nullopt,
      .device_id = TestId<IdKind::kDevice>(1),
      .amount = Eur(amount_minor),
      .tip = Eur(tip_minor),
      .state = state,
      .refunded_amount = Eur(refunded_minor),
  };
}

inline Refund EurRefund(int n, const Payment& payment, int64_t amount_minor, RefundState state) {
  return Refund{
      .id = TestId<IdKind::kRefund>(n),
      .payment_id = payment.id,
      .amount = Eur(amount_minor),
      .state = state,
      .reason = "customer returned goods",
  };
}

}  // namespace posd::core::testing
