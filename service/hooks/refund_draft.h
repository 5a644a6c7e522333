// What a beforeRefund hook sees: the refund about to be created and the
// payment it gives money back on. A beforeRefund hook may only veto (e.g. a
// refund window or a manager rule); nothing in a refund is for a plugin to
// adjust.
//
// Thread safety: a plain value; not synchronised. Copyable.
#pragma once

#include <chrono>
#include <optional>
#include <utility>

#include "service/core/order.h"
#include "service/core/payment.h"
#include "service/core/refund.h"

namespace posd::hooks {

class RefundDraft {
 public:
  RefundDraft(core::Refund refund, core::Payment payment, std::optional<core::Order> order,
              std::chrono::system_clock::time_point now)
      : refund_(std::move(refund)),
        payment_(std::move(payment)),
        order_(std::move(order)),
        now_(now) {}

  const core::Refund& refund() const { return refund_; }
  const core::Payment& payment() const { return payment_; }
  const std::optional<core::Order>& order() const { return order_; }
  std::chrono::system_clock::time_point now() const { return now_; }

 private:
  core::Refund refund_;
  core::Payment payment_;
  std::optional<core::Order> order_;
  std::chrono::system_clock::time_point now_;
};

}  // namespace posd::hooks
