#include "service/engine/checked_result.h"

#include "service/common/error_info.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/core/approval_check.h"
#include "service/core/card_data.h"
#include "service/engine/domain_conversion.h"

namespace posd::engine {

absl::StatusOr<core::PaymentEvent> ApplyApprovedSale(posd::v1::Payment& payment,
                                                     const TransactionResult& result,
                                                     core::PaymentEvent approved) {
  auto* card = payment.mutable_card();
  card->set_brand(result.card_brand);
  // Anything that is not a properly masked PAN is dropped, never stored.
  auto pan = core::MaskedPan::Parse(result.masked_pan);
  card->set_masked_pan(pan.ok() ? pan->str() : "");
  card->set_approval_code(result.approval_code);
  card->set_terminal_reference(result.terminal_reference);

  POSD_ASSIGN_OR_RETURN(const core::Payment asked, PaymentFromProto(payment));
  absl::StatusOr<core::ApprovedCharge> charge = core::CheckApproval(
      asked, core::ReportedApproval{.transaction_id = result.reported_transaction_id,
                                    .currency = result.currency,
                                    .amount_minor = result.amount_minor,
                                    .tip_minor = result.tip_minor,
                                    .partial_approval_declared = result.partial_approval_declared,
                                    .tip_entry_allowed = false});
  if (!charge.ok()) {
    payment.set_failure_reason(StrCat(kAmountMismatchPrefix, ToStd(charge.status().message()),
                                      "; an operator must settle it with the terminal's receipt"));
    return core::PaymentEvent::kResultMismatch;
  }
  *payment.mutable_tip() = MoneyProto(charge->tip);
  *payment.mutable_charged_amount() = MoneyProto(charge->charged);
  payment.clear_failure_reason();
  return approved;
}

std::string RefundResultMismatch(const posd::v1::Refund& refund, const TransactionResult& result) {
  if (result.reported_transaction_id != refund.id()) {
    return StrCat("the result names transaction ", QuoteInput(result.reported_transaction_id));
  }
  if (result.currency != refund.amount().currency_code()) {
    return StrCat("the result is in ", QuoteInput(result.currency, 8), ", the refund in ",
                  refund.amount().currency_code());
  }
  if (result.amount_minor != refund.amount().amount_minor()) {
    return StrCat("the terminal paid out ", result.amount_minor, " minor units, the refund asked ",
                  refund.amount().amount_minor());
  }
  return "";
}

}  // namespace posd::engine
