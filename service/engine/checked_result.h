// A terminal's result, checked against what posd asked before it moves a
// payment or refund (DESIGN.md, "Terminal trust"; core/approval_check.h has
// the rules for sales). Split from engine.cc, whose DoResult calls these.
//
// Thread safety: pure functions over values.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "posd/v1/payments.pb.h"
#include "service/core/payment_state_machine.h"
#include "service/engine/device_port.h"

namespace posd::engine {

// The prefix of a payment's or refund's failure_reason when a result did not
// match its request (ERROR_REASON_AMOUNT_MISMATCH).
inline constexpr std::string_view kAmountMismatchPrefix = "AMOUNT_MISMATCH: ";

// Applies an APPROVED `result` of `payment`'s sale: when it fits the sale,
// records the card, the tip and the charged amount (less than amount + tip
// after a declared partial approval) and returns `approved` (kApproved or
// kStatusQueryApproved). When it does not fit, records the card data and a
// failure_reason starting with kAmountMismatchPrefix, and returns
// kResultMismatch (the payment goes IN_DOUBT for an operator). Errors only
// for a payment that cannot be read (DATA_LOSS, INTERNAL).
absl::StatusOr<core::PaymentEvent> ApplyApprovedSale(posd::v1::Payment& payment,
                                                     const TransactionResult& result,
                                                     core::PaymentEvent approved);

// Why an APPROVED `result` does not fit `refund` (another transaction id or
// currency, or another amount than the refund asked), or empty when it fits.
std::string RefundResultMismatch(const posd::v1::Refund& refund, const TransactionResult& result);

}  // namespace posd::engine
