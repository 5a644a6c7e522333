// Domain values for hook tests.
#pragma once

#include <string>

#include "service/core/card_data.h"
#include "service/core/currency.h"
#include "service/core/ids.h"
#include "service/core/money.h"
#include "service/core/order.h"
#include "service/core/payment.h"
#include "service/core/refund.h"

namespace posd::hooks::testing {

inline core::CurrencyCode Eur() { return *core::CurrencyCode::Parse("EUR"); }
inline core::Money Eur(int64_t cents) { return core::Money(cents, Eur()); }

inline core::Order TestOrder() {
  return core::Order{
      .id = *core::OrderId::Parse("ord_01HF7YAT00V3DQ4XK2M8E9R6ZB"),
      .currency = Eur(),
      .state = core::OrderState::kPlaced,
      .lines = {core::OrderLine{.sku = "ESP", .name = "Espresso", .quantity = 2,
                                .unit_price = Eur(250)},
                core::OrderLine{.sku = "CRO", .name = "Croissant", .quantity = 1,
                                .unit_price = Eur(320)}},
  };
}

inline core::Payment TestPayment() {
  return core::Payment{
      .id = *core::PaymentId::Parse("pay_01HF7YAT00V3DQ4XK2M8E9R6ZC"),
      .order_id = *core::OrderId::Parse("ord_01HF7YAT00V3DQ4XK2M8E9R6ZB"),
      .device_id = *core::DeviceId::Parse("dev_01HF7YAT00V3DQ4XK2M8E9R6ZD"),
      .amount = Eur(820),
      .tip = Eur(0),
      .state = core::PaymentState::kApproved,
      .card = core::CardData{.brand = "VISA",
                             .masked_pan = *core::MaskedPan::Parse("411111******1111")},
      .approval_code = "A1B2C3",
      .terminal_reference = "T-000042",
      .terminal_transaction_id = "tx-1",
      .refunded_amount = Eur(0),
  };
}

inline core::Refund TestRefund() {
  return core::Refund{
      .id = *core::RefundId::Parse("ref_01HF7YAT00V3DQ4XK2M8E9R6ZE"),
      .payment_id = *core::PaymentId::Parse("pay_01HF7YAT00V3DQ4XK2M8E9R6ZC"),
      .amount = Eur(320),
      .state = core::RefundState::kCompleted,
      .reason = "croissant was cold",
      .terminal_reference = "T-000043",
  };
}

}  // namespace posd::hooks::testing
