// A plugin whose hooks are whatever a test says, for tests of the chain, the
// registry and the outbox runner.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "service/hooks/plugin.h"

namespace posd::hooks::testing {

class FakePlugin final : public Plugin {
 public:
  FakePlugin(std::string name, std::vector<HookPoint> points)
      : name_(std::move(name)), points_(std::move(points)) {}

  std::function<absl::Status(OrderDraft&)> before_order;
  std::function<absl::Status(PaymentDraft&)> before_payment;
  std::function<absl::Status(RefundDraft&)> before_refund;
  std::function<absl::Status(const HookSubject&, const AfterHookContext&)> after;

  std::string_view name() const override { return name_; }
  std::vector<HookPoint> hook_points() const override { return points_; }
  absl::Status BeforeOrder(OrderDraft& draft) override {
    return before_order ? before_order(draft) : absl::OkStatus();
  }
  absl::Status BeforePayment(PaymentDraft& draft) override {
    return before_payment ? before_payment(draft) : absl::OkStatus();
  }
  absl::Status BeforeRefund(RefundDraft& draft) override {
    return before_refund ? before_refund(draft) : absl::OkStatus();
  }
  absl::Status AfterOrder(const HookSubject& s, const AfterHookContext& c) override {
    return after ? after(s, c) : absl::OkStatus();
  }
  absl::Status AfterPayment(const HookSubject& s, const AfterHookContext& c) override {
    return after ? after(s, c) : absl::OkStatus();
  }
  absl::Status OnPaymentFailed(const HookSubject& s, const AfterHookContext& c) override {
    return after ? after(s, c) : absl::OkStatus();
  }
  absl::Status AfterRefund(const HookSubject& s, const AfterHookContext& c) override {
    return after ? after(s, c) : absl::OkStatus();
  }

 private:
  std::string name_;
  std::vector<HookPoint> points_;
};

}  // namespace posd::hooks::testing
