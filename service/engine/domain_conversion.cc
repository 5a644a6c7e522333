#include "service/engine/domain_conversion.h"

#include <algorithm>

#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/core/card_data.h"
#include "service/core/order_payments.h"

namespace posd::engine {
namespace {

// core's DeviceId is a ULID, but terminals carry operator-chosen names
// ("counter-1"); no rule looks at the device, so the core view gets a fixed
// placeholder and the name stays in the posd.v1 message.
const core::DeviceId& PlaceholderDeviceId() {
  static const core::DeviceId* id =
      new core::DeviceId(*core::DeviceId::Parse("dev_00000000000000000000000000"));
  return *id;
}

constexpr std::pair<posd::v1::RefundStatus, std::string_view> kRefundStatusNames[] = {
    {posd::v1::REFUND_STATUS_CREATED, "CREATED"},
    {posd::v1::REFUND_STATUS_DISPATCHED, "DISPATCHED"},
    {posd::v1::REFUND_STATUS_PROCESSING, "PROCESSING"},
    {posd::v1::REFUND_STATUS_SUCCEEDED, "SUCCEEDED"},
    {posd::v1::REFUND_STATUS_DECLINED, "DECLINED"},
    {posd::v1::REFUND_STATUS_FAILED, "FAILED"},
    {posd::v1::REFUND_STATUS_IN_DOUBT, "IN_DOUBT"},
};

}  // namespace

int64_t ToMillis(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

std::chrono::system_clock::time_point FromMillis(int64_t millis) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(millis));
}

google::protobuf::Timestamp TimestampFromMillis(int64_t millis) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(millis / 1000);
  timestamp.set_nanos(static_cast<int32_t>((millis % 1000) * 1'000'000));
  return timestamp;
}

int64_t MillisFromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() * 1000 + timestamp.nanos() / 1'000'000;
}

posd::v1::Money MoneyProto(int64_t minor, std::string_view currency) {
  posd::v1::Money money;
  money.set_amount_minor(minor);
  money.set_currency_code(std::string(currency));
  return money;
}

posd::v1::Money MoneyProto(const core::Money& money) {
  return MoneyProto(money.minor_units(), money.currency().code());
}

absl::StatusOr<core::Money> MoneyFromProto(const posd::v1::Money& money, std::string_view what) {
  auto currency = core::CurrencyCode::Parse(money.currency_code());
  if (!currency.ok()) {
    return absl::InvalidArgumentError(
        StrCat(what, ": ", ToStd(currency.status().message())));
  }
  return core::Money(money.amount_minor(), *currency);
}

posd::v1::PaymentStatus PaymentStatusProto(core::PaymentState state) {
  posd::v1::PaymentStatus status = posd::v1::PAYMENT_STATUS_UNSPECIFIED;
  posd::v1::PaymentStatus_Parse(StrCat("PAYMENT_STATUS_", core::ToString(state)), &status);
  return status;
}

absl::StatusOr<core::PaymentState> PaymentStateFromProto(posd::v1::PaymentStatus status) {
  std::string name = posd::v1::PaymentStatus_Name(status);
  return core::ParsePaymentState(std::string_view(name).substr(std::size("PAYMENT_STATUS_") - 1));
}

posd::v1::OrderStatus OrderStatusProto(core::OrderState state) {
  posd::v1::OrderStatus status = posd::v1::ORDER_STATUS_UNSPECIFIED;
  posd::v1::OrderStatus_Parse(StrCat("ORDER_STATUS_", core::ToString(state)), &status);
  return status;
}

absl::StatusOr<core::OrderState> OrderStateFromProto(posd::v1::OrderStatus status) {
  std::string name = posd::v1::OrderStatus_Name(status);
  return core::ParseOrderState(std::string_view(name).substr(std::size("ORDER_STATUS_") - 1));
}

core::RefundState RefundStateFromProto(posd::v1::RefundStatus status) {
  switch (status) {
    case posd::v1::REFUND_STATUS_SUCCEEDED: return core::RefundState::kCompleted;
    case posd::v1::REFUND_STATUS_IN_DOUBT: return core::RefundState::kInDoubt;
    case posd::v1::REFUND_STATUS_DECLINED:
    case posd::v1::REFUND_STATUS_FAILED: return core::RefundState::kFailed;
    default: return core::RefundState::kPending;
  }
}

std::string_view RefundStatusName(posd::v1::RefundStatus status) {
  for (const auto& [value, name] : kRefundStatusNames) {
    if (value == status) return name;
  }
  return "UNSPECIFIED";
}

absl::StatusOr<posd::v1::RefundStatus> ParseRefundStatus(std::string_view name) {
  for (const auto& [value, known] : kRefundStatusNames) {
    if (known == name) return value;
  }
  return absl::DataLossError(StrCat("unknown refund status '", name, "' in the database"));
}

absl::StatusOr<core::Order> OrderFromProto(const posd::v1::Order& order) {
  POSD_ASSIGN_OR_RETURN(core::OrderId id, core::OrderId::Parse(order.id()));
  POSD_ASSIGN_OR_RETURN(core::CurrencyCode currency,
                        core::CurrencyCode::Parse(order.currency_code()));
  POSD_ASSIGN_OR_RETURN(core::OrderState state, OrderStateFromProto(order.status()));
  core::Order result{.id = id, .currency = currency, .state = state};
  for (const auto& line : order.lines()) {
    POSD_ASSIGN_OR_RETURN(core::Money price, MoneyFromProto(line.unit_price(), "unit_price"));
    result.lines.push_back(core::OrderLine{
        .sku = line.sku(), .name = line.name(), .quantity = line.quantity(), .unit_price = price});
  }
  for (const auto& discount : order.discounts()) {
    POSD_ASSIGN_OR_RETURN(core::Money amount, MoneyFromProto(discount.amount(), "discount"));
    result.discounts.push_back(core::Discount{.code = DiscountCode(discount), .amount = amount});
  }
  result.created_at = FromMillis(MillisFromTimestamp(order.created_at()));
  result.updated_at = FromMillis(MillisFromTimestamp(order.updated_at()));
  return result;
}

std::string DiscountCode(const posd::v1::AppliedDiscount& discount) {
  return discount.coupon_code().empty() ? discount.plugin() : discount.coupon_code();
}

posd::v1::HookPoint HookPointProto(hooks::HookPoint point) {
  switch (point) {
    case hooks::HookPoint::kBeforeOrder: return posd::v1::HOOK_POINT_BEFORE_ORDER;
    case hooks::HookPoint::kAfterOrder: return posd::v1::HOOK_POINT_AFTER_ORDER;
    case hooks::HookPoint::kBeforePayment: return posd::v1::HOOK_POINT_BEFORE_PAYMENT;
    case hooks::HookPoint::kAfterPayment: return posd::v1::HOOK_POINT_AFTER_PAYMENT;
    case hooks::HookPoint::kOnPaymentFailed: return posd::v1::HOOK_POINT_ON_PAYMENT_FAILED;
    case hooks::HookPoint::kBeforeRefund: return posd::v1::HOOK_POINT_BEFORE_REFUND;
    case hooks::HookPoint::kAfterRefund: return posd::v1::HOOK_POINT_AFTER_REFUND;
  }
  return posd::v1::HOOK_POINT_UNSPECIFIED;
}

absl::StatusOr<hooks::HookPoint> HookPointFromProto(posd::v1::HookPoint point) {
  for (hooks::HookPoint candidate : hooks::kAllHookPoints) {
    if (HookPointProto(candidate) == point) return candidate;
  }
  return absl::InvalidArgumentError(
      StrCat("hook point ", static_cast<int>(point), " is not one of posd's hook points"));
}

posd::v1::HookRunState HookRunStateProto(hooks::HookRunState state) {
  switch (state) {
    case hooks::HookRunState::kPending: return posd::v1::HOOK_RUN_STATE_PENDING;
    case hooks::HookRunState::kRunning: return posd::v1::HOOK_RUN_STATE_RUNNING;
    case hooks::HookRunState::kSucceeded: return posd::v1::HOOK_RUN_STATE_SUCCEEDED;
    case hooks::HookRunState::kFailed: return posd::v1::HOOK_RUN_STATE_FAILED;
    case hooks::HookRunState::kRetryScheduled: return posd::v1::HOOK_RUN_STATE_RETRY_SCHEDULED;
    case hooks::HookRunState::kAbandoned: return posd::v1::HOOK_RUN_STATE_ABANDONED;
  }
  return posd::v1::HOOK_RUN_STATE_UNSPECIFIED;
}

absl::StatusOr<hooks::HookRunState> HookRunStateFromProto(posd::v1::HookRunState state) {
  for (hooks::HookRunState candidate : hooks::kAllHookRunStates) {
    if (HookRunStateProto(candidate) == state) return candidate;
  }
  return absl::InvalidArgumentError(
      StrCat("hook run state ", static_cast<int>(state), " is not one of posd's run states"));
}

posd::v1::HookRun HookRunProto(const hooks::HookRun& run, int max_attempts) {
  posd::v1::HookRun out;
  out.set_id(run.id);
  out.set_hook_point(HookPointProto(run.hook_point));
  out.set_plugin(run.plugin);
  switch (run.hook_point) {
    case hooks::HookPoint::kBeforeOrder:
    case hooks::HookPoint::kAfterOrder: out.set_order_id(run.subject_id); break;
    case hooks::HookPoint::kBeforePayment:
    case hooks::HookPoint::kAfterPayment:
    case hooks::HookPoint::kOnPaymentFailed: out.set_payment_id(run.subject_id); break;
    case hooks::HookPoint::kBeforeRefund:
    case hooks::HookPoint::kAfterRefund: out.set_refund_id(run.subject_id); break;
  }
  out.set_idempotency_key(run.idempotency_key);
  out.set_state(HookRunStateProto(run.state));
  out.set_attempts(run.attempts);
  out.set_max_attempts(max_attempts);
  out.set_last_error(run.last_error);
  if (run.next_attempt_at && hooks::IsClaimable(run.state)) {
    *out.mutable_next_attempt_at() = TimestampFromMillis(ToMillis(*run.next_attempt_at));
  }
  out.set_trigger_sequence(run.trigger_sequence);
  *out.mutable_created_at() = TimestampFromMillis(ToMillis(run.created_at));
  *out.mutable_updated_at() = TimestampFromMillis(ToMillis(run.updated_at));
  if (run.completed_at) *out.mutable_completed_at() = TimestampFromMillis(ToMillis(*run.completed_at));
  return out;
}

absl::StatusOr<core::Payment> PaymentFromProto(const posd::v1::Payment& payment) {
  POSD_ASSIGN_OR_RETURN(core::PaymentId id, core::PaymentId::Parse(payment.id()));
  std::optional<core::OrderId> order_id;
  if (!payment.order_id().empty()) {
    POSD_ASSIGN_OR_RETURN(order_id, core::OrderId::Parse(payment.order_id()));
  }
  POSD_ASSIGN_OR_RETURN(core::Money amount, MoneyFromProto(payment.amount(), "amount"));
  POSD_ASSIGN_OR_RETURN(core::Money tip, MoneyFromProto(payment.tip(), "tip"));
  POSD_ASSIGN_OR_RETURN(core::Money refunded,
                        MoneyFromProto(payment.refunded_amount(), "refunded_amount"));
  POSD_ASSIGN_OR_RETURN(core::PaymentState state, PaymentStateFromProto(payment.status()));
  std::optional<core::Money> charged;
  if (payment.has_charged_amount()) {
    POSD_ASSIGN_OR_RETURN(charged, MoneyFromProto(payment.charged_amount(), "charged_amount"));
  }
  core::Payment result{
      .id = id,
      .order_id = order_id,
      .device_id = PlaceholderDeviceId(),
      .amount = amount,
      .tip = tip,
      .state = state,
      .failure_reason = payment.failure_reason(),
      .approval_code = payment.card().approval_code(),
      .terminal_reference = payment.card().terminal_reference(),
      .terminal_transaction_id = payment.id(),
      .refunded_amount = refunded,
      .charged = charged,
      .created_at = FromMillis(MillisFromTimestamp(payment.created_at())),
      .updated_at = FromMillis(MillisFromTimestamp(payment.updated_at())),
  };
  // The engine stores only properly masked PANs (DoResult drops anything
  // else), so an unparsable one means "no card data", not an error.
  if (auto pan = core::MaskedPan::Parse(payment.card().masked_pan()); pan.ok()) {
    result.card = core::CardData{.brand = payment.card().brand(), .masked_pan = *std::move(pan)};
  }
  return result;
}

absl::StatusOr<core::Refund> RefundFromProto(const posd::v1::Refund& refund) {
  POSD_ASSIGN_OR_RETURN(core::RefundId id, core::RefundId::Parse(refund.id()));
  POSD_ASSIGN_OR_RETURN(core::PaymentId payment_id, core::PaymentId::Parse(refund.payment_id()));
  POSD_ASSIGN_OR_RETURN(core::Money amount, MoneyFromProto(refund.amount(), "amount"));
  return core::Refund{.id = id,
                      .payment_id = payment_id,
                      .amount = amount,
                      .state = RefundStateFromProto(refund.status()),
                      .reason = refund.reason(),
                      .failure_reason = refund.failure_reason(),
                      .terminal_reference = refund.card().terminal_reference(),
                      .created_at = FromMillis(MillisFromTimestamp(refund.created_at())),
                      .updated_at = FromMillis(MillisFromTimestamp(refund.updated_at()))};
}

absl::StatusOr<std::vector<core::Payment>> PaymentsFromProto(
    std::span<const posd::v1::Payment> payments) {
  std::vector<core::Payment> result;
  result.reserve(payments.size());
  for (const auto& payment : payments) {
    POSD_ASSIGN_OR_RETURN(core::Payment converted, PaymentFromProto(payment));
    result.push_back(std::move(converted));
  }
  return result;
}

absl::Status FillOrderSums(posd::v1::Order& order, std::span<const posd::v1::Payment> payments) {
  POSD_ASSIGN_OR_RETURN(core::Order core_order, OrderFromProto(order));
  POSD_ASSIGN_OR_RETURN(core::Money subtotal, core_order.Subtotal());
  POSD_ASSIGN_OR_RETURN(core::Money total, core_order.Total());
  // Every sum is checked (core::Money): Total() above bounded the lines.
  for (size_t i = 0; i < core_order.lines.size(); ++i) {
    POSD_ASSIGN_OR_RETURN(core::Money line_total, core_order.lines[i].Total());
    *order.mutable_lines(static_cast<int>(i))->mutable_line_total() = MoneyProto(line_total);
  }
  core::Money discounts = core::Money::Zero(core_order.currency);
  for (const auto& discount : core_order.discounts) {
    POSD_ASSIGN_OR_RETURN(discounts, discounts.Add(discount.amount));
  }
  core::Money paid = core::Money::Zero(core_order.currency);
  core::Money refunded = paid;
  core::Money tips = paid;
  order.clear_payments();
  for (const auto& payment : payments) {
    POSD_ASSIGN_OR_RETURN(core::Payment core_payment, PaymentFromProto(payment));
    if (core::WasApproved(core_payment.state)) {
      // After a partial approval only the approved part pays the order.
      POSD_ASSIGN_OR_RETURN(const core::Money approved, core_payment.ApprovedAmount());
      POSD_ASSIGN_OR_RETURN(paid, paid.Add(approved));
      POSD_ASSIGN_OR_RETURN(tips, tips.Add(core_payment.tip));
    }
    POSD_ASSIGN_OR_RETURN(refunded, refunded.Add(core_payment.refunded_amount));
    auto* summary = order.add_payments();
    summary->set_payment_id(payment.id());
    summary->set_status(payment.status());
    *summary->mutable_amount() = payment.amount();
    *summary->mutable_tip() = payment.tip();
    *summary->mutable_refunded() = payment.refunded_amount();
    summary->set_device_id(payment.device_id());
    *summary->mutable_created_at() = payment.created_at();
  }
  *order.mutable_subtotal() = MoneyProto(subtotal);
  *order.mutable_discount_total() = MoneyProto(discounts);
  *order.mutable_total() = MoneyProto(total);
  *order.mutable_amount_paid() = MoneyProto(paid);
  *order.mutable_amount_refunded() = MoneyProto(refunded);
  POSD_ASSIGN_OR_RETURN(const core::Money due, total.Subtract(paid));
  *order.mutable_amount_due() = MoneyProto(due.is_negative() ? core::Money::Zero(total.currency()) : due);
  *order.mutable_tip_total() = MoneyProto(tips);
  return absl::OkStatus();
}

}  // namespace posd::engine
