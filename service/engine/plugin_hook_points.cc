#include "service/engine/plugin_hook_points.h"

#include <optional>
#include <utility>

#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/engine/domain_conversion.h"
#include "service/hooks/payment_draft.h"
#include "service/hooks/refund_draft.h"

namespace posd::engine {
namespace {

// A resource that does not convert was built by the engine itself, so the
// fault is ours, not the caller's: INTERNAL, never INVALID_ARGUMENT.
absl::Status Internal(const absl::Status& status, std::string_view what) {
  return absl::InternalError(StrCat("cannot show the ", what, " to plugins: ", status.message()));
}

absl::StatusOr<std::optional<core::Order>> OptionalOrder(const posd::v1::Order* order) {
  if (order == nullptr) return std::optional<core::Order>();
  absl::StatusOr<core::Order> converted = OrderFromProto(*order);
  if (!converted.ok()) return Internal(converted.status(), "order");
  return std::optional<core::Order>(*std::move(converted));
}

// The order's discounts as the hooks left them: a discount granted in this
// run carries its plugin and description; one the hooks kept keeps what it
// had (its amount may have been recomputed).
google::protobuf::RepeatedPtrField<posd::v1::AppliedDiscount> DiscountsAfter(
    const posd::v1::Order& before, const hooks::OrderDraft& draft) {
  google::protobuf::RepeatedPtrField<posd::v1::AppliedDiscount> discounts;
  for (const core::Discount& discount : draft.order().discounts) {
    posd::v1::AppliedDiscount* out = discounts.Add();
    const hooks::DiscountGrant* grant = nullptr;
    for (const hooks::DiscountGrant& g : draft.grants()) {
      if (g.code == discount.code) grant = &g;
    }
    if (grant != nullptr) {
      out->set_plugin(grant->plugin);
      out->set_coupon_code(discount.code);
      out->set_description(grant->description);
    } else {
      for (const posd::v1::AppliedDiscount& earlier : before.discounts()) {
        if (DiscountCode(earlier) == discount.code) *out = earlier;
      }
      if (DiscountCode(*out) != discount.code) out->set_coupon_code(discount.code);
    }
    *out->mutable_amount() = MoneyProto(discount.amount);
  }
  return discounts;
}

}  // namespace

absl::Status PluginHookPoints::BeforeOrder(const BeforeOrderContext& context,
                                           posd::v1::Order& order) {
  absl::StatusOr<core::Order> converted = OrderFromProto(order);
  if (!converted.ok()) return Internal(converted.status(), "order");
  std::vector<std::string> codes(order.coupon_codes().begin(), order.coupon_codes().end());
  hooks::OrderDraft draft(*std::move(converted), context.change, std::move(codes),
                          context.coupon_uses, context.now);
  POSD_RETURN_IF_ERROR(chain_.RunBeforeOrder(draft));
  *order.mutable_discounts() = DiscountsAfter(order, draft);
  return absl::OkStatus();
}

absl::Status PluginHookPoints::BeforePayment(const BeforePaymentContext& context,
                                             const posd::v1::Order* order,
                                             posd::v1::Payment& payment) {
  absl::StatusOr<core::Payment> converted = PaymentFromProto(payment);
  if (!converted.ok()) return Internal(converted.status(), "payment");
  POSD_ASSIGN_OR_RETURN(std::optional<core::Order> core_order, OptionalOrder(order));
  hooks::PaymentDraft draft(*std::move(converted), std::move(core_order), context.parameters,
                            context.now);
  POSD_RETURN_IF_ERROR(chain_.RunBeforePayment(draft));
  *payment.mutable_tip() = MoneyProto(draft.payment().tip);
  return absl::OkStatus();
}

absl::Status PluginHookPoints::BeforeRefund(std::chrono::system_clock::time_point now,
                                            const posd::v1::Order* order,
                                            const posd::v1::Payment& payment,
                                            const posd::v1::Refund& refund) {
  absl::StatusOr<core::Refund> core_refund = RefundFromProto(refund);
  if (!core_refund.ok()) return Internal(core_refund.status(), "refund");
  absl::StatusOr<core::Payment> core_payment = PaymentFromProto(payment);
  if (!core_payment.ok()) return Internal(core_payment.status(), "payment");
  POSD_ASSIGN_OR_RETURN(std::optional<core::Order> core_order, OptionalOrder(order));
  hooks::RefundDraft draft(*std::move(core_refund), *std::move(core_payment),
                           std::move(core_order), now);
  return chain_.RunBeforeRefund(draft);
}

std::vector<hooks::PlannedHookRun> PluginHookPoints::PlanAfterRuns(
    hooks::HookPoint point, std::string_view subject_id) const {
  return chain_.PlanAfterRuns(point, subject_id);
}

}  // namespace posd::engine
