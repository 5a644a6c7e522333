// The engine's view of plugins' lifecycle hooks (DESIGN.md, "Lifecycle
// hooks"): before-hooks run inside a command, before its transition commits,
// and may adjust the resource or veto; after-hooks are only named here, the
// engine writes one outbox row (hook_runs) per enabled plugin and point.
//
// The engine never names a plugin: whoever builds the engine passes an
// implementation (the plugin registry's hook chain in posd, fakes in tests).
//
// Thread safety: called on the engine's writer thread only; implementations
// must bound their time (a slow before-hook delays every queued command).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"

namespace posd::engine {

enum class HookPoint {
  kBeforeOrder,
  kAfterOrder,
  kBeforePayment,
  kAfterPayment,
  kOnPaymentFailed,
  kBeforeRefund,
  kAfterRefund,
};

// "beforeOrder", "afterPayment", ...: the names hook_runs and idempotency
// keys use.
std::string_view HookPointName(HookPoint point);

class HookPoints {
 public:
  virtual ~HookPoints() = default;

  // Before-hooks. `order`, `payment`, `refund` are the resource about to be
  // committed; a hook may change what its point allows (discounts on the
  // order, the payment's tip). A veto is FAILED_PRECONDITION whose message
  // names the plugin and its reason; any other error fails the command too.
  virtual absl::Status BeforeOrder(posd::v1::Order& order) = 0;
  virtual absl::Status BeforePayment(const posd::v1::Order* order, posd::v1::Payment& payment) = 0;
  virtual absl::Status BeforeRefund(const posd::v1::Payment& payment, posd::v1::Refund& refund) = 0;

  // The plugins whose after-hook `point` must run, in order.
  virtual std::vector<std::string> AfterHookPlugins(HookPoint point) const = 0;
};

}  // namespace posd::engine
