// A terminal's approval of a sale, checked against the sale posd sent before
// it may make a payment APPROVED (DESIGN.md, "Terminal trust"): posd pays out
// on a terminal's word, so a word that does not fit the question is not an
// answer. Pure.
//
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "service/core/money.h"
#include "service/core/payment.h"

namespace posd::core {

// What a terminal's APPROVED result says, as it said it.
struct ReportedApproval {
  std::string transaction_id;  // the Result's own transaction id
  std::string currency;        // the Result's currency code
  int64_t amount_minor = 0;    // approved before tip
  int64_t tip_minor = 0;       // tip charged on top
  // The terminal declared CAPABILITY_PARTIAL_APPROVAL: it may approve less.
  bool partial_approval_declared = false;
  // The sale let the terminal ask the customer for a tip
  // (Sale.tip_entry_allowed); posd never sets it today.
  bool tip_entry_allowed = false;
};

// What the card was charged, once an approval passed the check.
struct ApprovedCharge {
  Money amount;   // approved before tip: the payment's amount, or less (partial)
  Money tip;      // the tip charged
  Money charged;  // amount + tip
  bool partial = false;  // amount is below the payment's amount
};

// The charge `reported` stands for, when it answers `payment`'s sale.
// Otherwise FAILED_PRECONDITION with ErrorReason AMOUNT_MISMATCH and a
// message saying what differs, when:
//   - the transaction id is not the payment's id;
//   - the currency is not the payment's (an empty one included);
//   - the approved amount is above the amount asked, or not positive;
//   - it is below the amount asked and the terminal did not declare partial
//     approval;
//   - the tip differs from the tip asked, unless tip entry was allowed, in
//     which case it may be any tip from 0 to kMaxAmountMinor (a tip entered
//     on the terminal is bounded like one from the API).
absl::StatusOr<ApprovedCharge> CheckApproval(const Payment& payment,
                                             const ReportedApproval& reported);

}  // namespace posd::core
