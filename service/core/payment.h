// A payment: one attempt to charge one card on one terminal.
//
// A plain value type. Decisions recorded here:
// - order_id is optional: a payment without an order is a quick sale (an
//   amount typed at the till). Split-bill rules (order_payments.h) apply only
//   to payments with an order.
// - The tip is on top of the amount: the terminal charges amount + tip, but
//   only the amount counts toward the order's total. The tip belongs to the
//   payment, so refunds may return it too (refund_rules.h).
// - The currency is the amount's; tip and refunded_amount must share it.
// - A terminal that declared partial approval may approve less than asked:
//   `charged` then holds what it charged (approved amount + tip), and that,
//   not amount + tip, is what the order counts as paid (ApprovedAmount()) and
//   what refunds are capped by (Captured()). `amount` stays what was asked.
//
// Fields with a default ("= {}") may be left out of a designated
// initializer; the others (ids, money, quantities) must be given.
//
// Thread safety: a plain value; copy freely, synchronise shared mutation.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/core/card_data.h"
#include "service/core/currency.h"
#include "service/core/ids.h"
#include "service/core/money.h"
#include "service/core/payment_state_machine.h"

namespace posd::core {

struct Payment {
  PaymentId id;
  std::optional<OrderId> order_id = {};  // absent for a quick sale
  DeviceId device_id;               // the terminal that charges it
  Money amount;                     // > 0; the part that pays the order
  Money tip;                        // >= 0; charged on top of `amount`
  PaymentState state = PaymentState::kCreated;
  // Why it was declined, canceled or failed, in words for the operator.
  std::string failure_reason = {};
  // As the terminal reported it; absent until it does.
  std::optional<CardData> card = {};
  std::string approval_code = {};       // the issuer's approval code, from the terminal
  std::string terminal_reference = {};  // the terminal's own reference for the transaction
  // The transaction id posd sent with the request; the terminal keys its
  // remembered results by it, which is what makes a resend safe.
  std::string terminal_transaction_id = {};
  Money refunded_amount;  // sum of completed refunds; <= Captured()
  // What the terminal charged (approved amount + tip), once approved and
  // reported; absent means the whole ChargeTotal(). At most ChargeTotal().
  std::optional<Money> charged = {};
  std::chrono::system_clock::time_point created_at = {};
  std::chrono::system_clock::time_point updated_at = {};

  CurrencyCode currency() const { return amount.currency(); }
  // amount + tip: what the terminal is asked to charge.
  absl::StatusOr<Money> ChargeTotal() const { return amount.Add(tip); }
  // What the card was actually charged: `charged` (or ChargeTotal() when the
  // terminal did not say) once approved (even if refunded since), zero
  // otherwise.
  absl::StatusOr<Money> Captured() const;
  // The part of the charge that pays the order: Captured() − tip once
  // approved (less than `amount` after a partial approval), zero otherwise.
  absl::StatusOr<Money> ApprovedAmount() const;
  // OK when the invariants hold: 0 < amount and 0 <= tip, both at most
  // kMaxAmountMinor, one currency, tip <= charged <= amount + tip,
  // refunded_amount consistent with the state (0 unless PARTIALLY_REFUNDED,
  // where it is between 0 and Captured(), or REFUNDED, where it equals it).
  // INVALID_ARGUMENT otherwise; OUT_OF_RANGE if amount + tip overflows.
  absl::Status Validate() const;

  friend bool operator==(const Payment&, const Payment&) = default;
};

}  // namespace posd::core
