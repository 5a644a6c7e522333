#include "service/core/approval_check.h"

#include "service/common/error_info.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"

namespace posd::core {
namespace {

absl::Status Mismatch(const Payment& payment, std::string_view what) {
  return WithErrorDetails(
      absl::FailedPreconditionError(posd::StrCat(
          "the terminal's approval does not match the sale of ", payment.id.str(), ": ", what)),
      ErrorDetails{.reason = ErrorReason::kAmountMismatch,
                   .subject_type = "payment",
                   .subject_id = std::string(payment.id.str()),
                   .metadata = {}});
}

}  // namespace

absl::StatusOr<ApprovedCharge> CheckApproval(const Payment& payment,
                                             const ReportedApproval& reported) {
  if (reported.transaction_id != payment.id.str()) {
    return Mismatch(payment, posd::StrCat("it names transaction ",
                                          QuoteInput(reported.transaction_id)));
  }
  const CurrencyCode currency = payment.currency();
  if (reported.currency != currency.code()) {
    return Mismatch(payment, posd::StrCat("it is in ", QuoteInput(reported.currency, 8),
                                          ", the sale in ", currency.code()));
  }
  const Money amount(reported.amount_minor, currency);
  const Money tip(reported.tip_minor, currency);
  if (!amount.is_positive()) {
    return Mismatch(payment, posd::StrCat("it approves ", amount.ToString()));
  }
  if (amount > payment.amount) {
    return Mismatch(payment, posd::StrCat("it approves ", amount.ToString(), ", more than the ",
                                          payment.amount.ToString(), " asked"));
  }
  if (amount < payment.amount && !reported.partial_approval_declared) {
    return Mismatch(payment, posd::StrCat("it approves ", amount.ToString(), " of the ",
                                          payment.amount.ToString(),
                                          " asked, and the terminal did not declare partial "
                                          "approval"));
  }
  if (reported.tip_entry_allowed) {
    if (tip.is_negative() || !CheckAmountLimit(tip, "tip").ok()) {
      return Mismatch(payment, posd::StrCat("it charges a tip of ", tip.ToString()));
    }
  } else if (tip != payment.tip) {
    return Mismatch(payment, posd::StrCat("it charges a tip of ", tip.ToString(), ", the sale asked ",
                                          payment.tip.ToString()));
  }
  POSD_ASSIGN_OR_RETURN(Money charged, amount.Add(tip));
  return ApprovedCharge{
      .amount = amount, .tip = tip, .charged = charged, .partial = amount < payment.amount};
}

}  // namespace posd::core
