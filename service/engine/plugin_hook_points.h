// HookPoints over the plugins' hook chain: what posd passes to the engine.
//
// Converts the engine's resources (posd.v1 messages) into the drafts plugins
// see (hooks/order_draft.h, payment_draft.h, refund_draft.h), runs the chain
// within its time limit, and writes back what the hooks may change: the
// order's discounts (with the granting plugin and its description) and the
// payment's tip. A refund is never changed, only vetoed.
//
// Lifetime: `chain` must outlive this object. Thread safety: as HookPoints
// (Before* from the engine's writer thread; PlanAfterRuns from any thread).
#pragma once

#include "service/engine/hook_points.h"
#include "service/hooks/hook_chain.h"

namespace posd::engine {

class PluginHookPoints final : public HookPoints {
 public:
  explicit PluginHookPoints(hooks::HookChain& chain) : chain_(chain) {}

  absl::Status BeforeOrder(const BeforeOrderContext& context, posd::v1::Order& order) override;
  absl::Status BeforePayment(const BeforePaymentContext& context, const posd::v1::Order* order,
                             posd::v1::Payment& payment) override;
  absl::Status BeforeRefund(std::chrono::system_clock::time_point now,
                            const posd::v1::Order* order, const posd::v1::Payment& payment,
                            const posd::v1::Refund& refund) override;
  std::vector<hooks::PlannedHookRun> PlanAfterRuns(hooks::HookPoint point,
                                                   std::string_view subject_id) const override;

 private:
  hooks::HookChain& chain_;
};

}  // namespace posd::engine
