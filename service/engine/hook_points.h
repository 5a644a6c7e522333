// The engine's view of plugins' lifecycle hooks (DESIGN.md, "Lifecycle
// hooks"): before-hooks run inside a command, before its transition commits,
// and may adjust the resource or veto; for after-hooks the engine only asks
// which runs a transition creates and writes them to the hook_runs outbox in
// the same transaction (the outbox runner works them off).
//
// The engine never names a plugin: whoever builds the engine passes an
// implementation (PluginHookPoints over the hook chain in posd, fakes in
// tests). Hook points are hooks::HookPoint, the one source of their names.
//
// Thread safety: the Before* methods are called on the engine's writer thread
// only, and implementations must bound their time (a slow before-hook delays
// every queued command); PlanAfterRuns may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/hook_point.h"
#include "service/hooks/order_draft.h"

namespace posd::engine {

// What a beforeOrder hook is told besides the order.
struct BeforeOrderContext {
  hooks::OrderDraft::Change change = hooks::OrderDraft::Change::kCreate;
  // For each coupon code on the order: how many OTHER orders that are not
  // CANCELED carry a discount with it (hooks::OrderDraft::CouponUses).
  std::map<std::string, int64_t, std::less<>> coupon_uses = {};
  // The wall time of the command.
  std::chrono::system_clock::time_point now = {};
};

// What a beforePayment hook is told besides the order and the payment.
struct BeforePaymentContext {
  // The wall time of the command.
  std::chrono::system_clock::time_point now = {};
  // CreatePaymentRequest.parameters, unchanged (hooks::PaymentDraft::parameters).
  std::map<std::string, std::string, std::less<>> parameters = {};
};

class HookPoints {
 public:
  virtual ~HookPoints() = default;

  // Before-hooks. `order`, `payment`, `refund` are the resource about to be
  // committed; a hook may change what its point allows (discounts on the
  // order, the payment's tip) and the change is written back into it. A veto
  // is FAILED_PRECONDITION whose message names the plugin and its reason; any
  // other error fails the command too. On error the resource is unchanged.
  virtual absl::Status BeforeOrder(const BeforeOrderContext& context, posd::v1::Order& order) = 0;
  // `order` is null for a quick sale.
  virtual absl::Status BeforePayment(const BeforePaymentContext& context,
                                     const posd::v1::Order* order, posd::v1::Payment& payment) = 0;
  // `order` is null when the payment was a quick sale.
  virtual absl::Status BeforeRefund(std::chrono::system_clock::time_point now,
                                    const posd::v1::Order* order, const posd::v1::Payment& payment,
                                    const posd::v1::Refund& refund) = 0;

  // The after-hook runs a transition reaching `point` for `subject_id`
  // creates, in plugin order, each with its idempotency key. Empty for a
  // before-hook point.
  virtual std::vector<hooks::PlannedHookRun> PlanAfterRuns(hooks::HookPoint point,
                                                           std::string_view subject_id) const = 0;
};

}  // namespace posd::engine
