#include "service/hooks/hook_subject_codec.h"

#include <chrono>
#include <string>

#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/hooks/hook_subject.pb.h"

namespace posd::hooks {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

int64_t ToMicros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

void Put(const core::Money& money, stored::Money* out) {
  out->set_minor_units(money.minor_units());
  out->set_currency(std::string(money.currency().code()));
}

// Every decode error is DATA_LOSS: the bytes were written by posd, so a value
// it refuses now means the stored row is damaged.
absl::Status Lost(const absl::Status& status, std::string_view what) {
  return absl::DataLossError(StrCat("stored hook subject: ", what, ": ", status.message()));
}

template <typename T>
absl::StatusOr<T> Check(absl::StatusOr<T> value, std::string_view what) {
  if (!value.ok()) return Lost(value.status(), what);
  return value;
}

absl::StatusOr<core::Money> Get(const stored::Money& money, std::string_view what) {
  POSD_ASSIGN_OR_RETURN(core::CurrencyCode currency,
                        Check(core::CurrencyCode::Parse(money.currency()), what));
  return core::Money(money.minor_units(), currency);
}

void Put(const core::Order& order, stored::Order* out) {
  out->set_id(order.id.str());
  out->set_currency(std::string(order.currency.code()));
  out->set_state(std::string(core::ToString(order.state)));
  for (const core::OrderLine& line : order.lines) {
    stored::OrderLine* l = out->add_lines();
    l->set_sku(line.sku);
    l->set_name(line.name);
    l->set_quantity(line.quantity);
    Put(line.unit_price, l->mutable_unit_price());
  }
  for (const core::Discount& discount : order.discounts) {
    stored::Discount* d = out->add_discounts();
    d->set_code(discount.code);
    Put(discount.amount, d->mutable_amount());
  }
  out->set_created_at_us(ToMicros(order.created_at));
  out->set_updated_at_us(ToMicros(order.updated_at));
}

absl::StatusOr<core::Order> Get(const stored::Order& in) {
  POSD_ASSIGN_OR_RETURN(core::OrderId id, Check(core::OrderId::Parse(in.id()), "order id"));
  POSD_ASSIGN_OR_RETURN(core::CurrencyCode currency,
                        Check(core::CurrencyCode::Parse(in.currency()), "order currency"));
  POSD_ASSIGN_OR_RETURN(core::OrderState state,
                        Check(core::ParseOrderState(in.state()), "order state"));
  core::Order order{.id = std::move(id), .currency = currency, .state = state};
  for (const stored::OrderLine& l : in.lines()) {
    POSD_ASSIGN_OR_RETURN(core::Money price, Get(l.unit_price(), "line price"));
    order.lines.push_back(core::OrderLine{
        .sku = l.sku(), .name = l.name(), .quantity = l.quantity(), .unit_price = price});
  }
  for (const stored::Discount& d : in.discounts()) {
    POSD_ASSIGN_OR_RETURN(core::Money amount, Get(d.amount(), "discount amount"));
    order.discounts.push_back(core::Discount{.code = d.code(), .amount = amount});
  }
  order.created_at = FromMicros(in.created_at_us());
  order.updated_at = FromMicros(in.updated_at_us());
  return order;
}

void Put(const core::Payment& payment, stored::Payment* out) {
  out->set_id(payment.id.str());
  if (payment.order_id) out->set_order_id(payment.order_id->str());
  out->set_device_id(payment.device_id.str());
  Put(payment.amount, out->mutable_amount());
  Put(payment.tip, out->mutable_tip());
  out->set_state(std::string(core::ToString(payment.state)));
  out->set_failure_reason(payment.failure_reason);
  if (payment.card) {
    out->mutable_card()->set_brand(payment.card->brand);
    out->mutable_card()->set_masked_pan(payment.card->masked_pan.str());
  }
  out->set_approval_code(payment.approval_code);
  out->set_terminal_reference(payment.terminal_reference);
  out->set_terminal_transaction_id(payment.terminal_transaction_id);
  Put(payment.refunded_amount, out->mutable_refunded_amount());
  out->set_created_at_us(ToMicros(payment.created_at));
  out->set_updated_at_us(ToMicros(payment.updated_at));
}

absl::StatusOr<core::Payment> Get(const stored::Payment& in) {
  POSD_ASSIGN_OR_RETURN(core::PaymentId id, Check(core::PaymentId::Parse(in.id()), "payment id"));
  POSD_ASSIGN_OR_RETURN(core::DeviceId device,
                        Check(core::DeviceId::Parse(in.device_id()), "device id"));
  POSD_ASSIGN_OR_RETURN(core::Money amount, Get(in.amount(), "payment amount"));
  POSD_ASSIGN_OR_RETURN(core::Money tip, Get(in.tip(), "tip"));
  POSD_ASSIGN_OR_RETURN(core::Money refunded, Get(in.refunded_amount(), "refunded amount"));
  POSD_ASSIGN_OR_RETURN(core::PaymentState state,
                        Check(core::ParsePaymentState(in.state()), "payment state"));
  core::Payment payment{.id = std::move(id),
                        .device_id = std::move(device),
                        .amount = amount,
                        .tip = tip,
                        .state = state,
                        .failure_reason = in.failure_reason(),
                        .approval_code = in.approval_code(),
                        .terminal_reference = in.terminal_reference(),
                        .terminal_transaction_id = in.terminal_transaction_id(),
                        .refunded_amount = refunded,
                        .created_at = FromMicros(in.created_at_us()),
                        .updated_at = FromMicros(in.updated_at_us())};
  if (!in.order_id().empty()) {
    POSD_ASSIGN_OR_RETURN(payment.order_id,
                          Check(core::OrderId::Parse(in.order_id()), "payment's order id"));
  }
  if (in.has_card()) {
    POSD_ASSIGN_OR_RETURN(core::MaskedPan pan,
                          Check(core::MaskedPan::Parse(in.card().masked_pan()), "masked PAN"));
    payment.card = core::CardData{.brand = in.card().brand(), .masked_pan = std::move(pan)};
  }
  return payment;
}

void Put(const core::Refund& refund, stored::Refund* out) {
  out->set_id(refund.id.str());
  out->set_payment_id(refund.payment_id.str());
  Put(refund.amount, out->mutable_amount());
  out->set_state(std::string(core::ToString(refund.state)));
  out->set_reason(refund.reason);
  out->set_failure_reason(refund.failure_reason);
  out->set_terminal_reference(refund.terminal_reference);
  out->set_created_at_us(ToMicros(refund.created_at));
  out->set_updated_at_us(ToMicros(refund.updated_at));
}

absl::StatusOr<core::Refund> Get(const stored::Refund& in) {
  POSD_ASSIGN_OR_RETURN(core::RefundId id, Check(core::RefundId::Parse(in.id()), "refund id"));
  POSD_ASSIGN_OR_RETURN(core::PaymentId payment_id,
                        Check(core::PaymentId::Parse(in.payment_id()), "refund's payment id"));
  POSD_ASSIGN_OR_RETURN(core::Money amount, Get(in.amount(), "refund amount"));
  POSD_ASSIGN_OR_RETURN(core::RefundState state,
                        Check(core::ParseRefundState(in.state()), "refund state"));
  return core::Refund{.id = std::move(id),
                      .payment_id = std::move(payment_id),
                      .amount = amount,
                      .state = state,
                      .reason = in.reason(),
                      .failure_reason = in.failure_reason(),
                      .terminal_reference = in.terminal_reference(),
                      .created_at = FromMicros(in.created_at_us()),
                      .updated_at = FromMicros(in.updated_at_us())};
}

}  // namespace

std::string EncodeHookSubject(const HookSubject& subject) {
  stored::HookSubject out;
  if (subject.order) Put(*subject.order, out.mutable_order());
  if (subject.payment) Put(*subject.payment, out.mutable_payment());
  if (subject.refund) Put(*subject.refund, out.mutable_refund());
  return out.SerializeAsString();
}

absl::StatusOr<HookSubject> DecodeHookSubject(std::string_view bytes) {
  stored::HookSubject in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("stored hook subject is not readable");
  }
  HookSubject subject;
  if (in.has_order()) {
    POSD_ASSIGN_OR_RETURN(subject.order, Get(in.order()));
  }
  if (in.has_payment()) {
    POSD_ASSIGN_OR_RETURN(subject.payment, Get(in.payment()));
  }
  if (in.has_refund()) {
    POSD_ASSIGN_OR_RETURN(subject.refund, Get(in.refund()));
  }
  return subject;
}

}  // namespace posd::hooks
