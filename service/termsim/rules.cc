#include "service/termsim/rules.h"

namespace posd::termsim {

namespace v1 = ::posd::link::v1;

channel::TransactionPlan PlanFor(const channel::ledger::Started& request,
                                 const RuleOptions& options) {
  channel::TransactionPlan plan;
  // Brands alternate by amount so a demo shows more than one.
  if (request.amount_minor() % 2 == 1) {
    plan.card_brand = "MASTERCARD";
    plan.masked_pan = "555555******4444";
  }
  switch (request.amount_minor() % 100) {
    case 51:
      plan.outcome = v1::OUTCOME_DECLINED;
      plan.reason_code = "51";
      plan.reason_text = "insufficient funds";
      break;
    case 52: plan.pin_entry = true; break;
    case 53: plan.extra_processing = options.slow_delay; break;
    case 54: plan.customer_cancels = true; break;
    case 55:
      plan.outcome = v1::OUTCOME_ERROR;
      plan.reason_code = "E91";
      plan.reason_text = "acquirer unreachable";
      break;
    default: break;
  }
  return plan;
}

}  // namespace posd::termsim
