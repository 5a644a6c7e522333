// The simulator's decision rules: what the card holder and the issuer do,
// chosen by the last two digits of the amount (minor units) so that a demo
// or a test picks an outcome by picking a price. See README.md.
//
//   ..51  declined ("51", insufficient funds)
//   ..52  the customer enters a PIN (an extra stage)
//   ..53  slow: `slow_delay` extra in PROCESSING
//   ..54  the customer presses cancel while the card is awaited
//   ..55  the acquirer is unreachable: ERROR ("E91")
//   else  approved
//
// Pure; thread-safe.
#pragma once

#include "service/channel/terminal_endpoint.h"

namespace posd::termsim {

struct RuleOptions {
  channel::Duration slow_delay = std::chrono::seconds(10);
};

channel::TransactionPlan PlanFor(const channel::ledger::Started& request,
                                 const RuleOptions& options);

}  // namespace posd::termsim
