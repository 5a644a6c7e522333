// Conversions between posd.v1 resource messages and core's domain values.
//
// The engine keeps its resources as posd.v1 messages (they are what the event
// log stores and the API returns) and asks core for every rule, converting
// on the way in. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "posd/v1/hooks.pb.h"
#include "posd/v1/money.pb.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "service/core/money.h"
#include "service/core/order.h"
#include "service/core/payment.h"
#include "service/core/refund.h"
#include "service/hooks/hook_point.h"
#include "service/hooks/hook_run.h"

namespace posd::engine {

int64_t ToMillis(std::chrono::system_clock::time_point time);
std::chrono::system_clock::time_point FromMillis(int64_t millis);
google::protobuf::Timestamp TimestampFromMillis(int64_t millis);
int64_t MillisFromTimestamp(const google::protobuf::Timestamp& timestamp);

posd::v1::Money MoneyProto(int64_t minor, std::string_view currency);
posd::v1::Money MoneyProto(const core::Money& money);
// INVALID_ARGUMENT for an unknown currency; `what` names the field.
absl::StatusOr<core::Money> MoneyFromProto(const posd::v1::Money& money, std::string_view what);

posd::v1::PaymentStatus PaymentStatusProto(core::PaymentState state);
absl::StatusOr<core::PaymentState> PaymentStateFromProto(posd::v1::PaymentStatus status);
posd::v1::OrderStatus OrderStatusProto(core::OrderState state);
absl::StatusOr<core::OrderState> OrderStateFromProto(posd::v1::OrderStatus status);
// PENDING covers CREATED, DISPATCHED and PROCESSING; SUCCEEDED is COMPLETED;
// DECLINED and FAILED are FAILED.
core::RefundState RefundStateFromProto(posd::v1::RefundStatus status);

// "DISPATCHED", "SUCCEEDED", ...: the refund status as stored.
std::string_view RefundStatusName(posd::v1::RefundStatus status);
absl::StatusOr<posd::v1::RefundStatus> ParseRefundStatus(std::string_view name);

// The code a discount counts under in core::Order: its coupon code, or the
// granting plugin's name for a discount without a coupon.
std::string DiscountCode(const posd::v1::AppliedDiscount& discount);

// The API's names of hook points and run states (hooks::HookPoint and
// hooks::HookRunState are the source of truth; these only translate).
posd::v1::HookPoint HookPointProto(hooks::HookPoint point);
// INVALID_ARGUMENT for HOOK_POINT_UNSPECIFIED and unknown values.
absl::StatusOr<hooks::HookPoint> HookPointFromProto(posd::v1::HookPoint point);
posd::v1::HookRunState HookRunStateProto(hooks::HookRunState state);
// INVALID_ARGUMENT for HOOK_RUN_STATE_UNSPECIFIED and unknown values.
absl::StatusOr<hooks::HookRunState> HookRunStateFromProto(posd::v1::HookRunState state);
// The API's view of a run; `max_attempts` is the outbox runner's budget.
posd::v1::HookRun HookRunProto(const hooks::HookRun& run, int max_attempts);

// The core view of a stored resource, for the rules. The refunds' and
// payments' own fields are copied (with card data, references and times, so
// a hook subject snapshot is complete); the order's computed totals are
// ignored.
absl::StatusOr<core::Order> OrderFromProto(const posd::v1::Order& order);
absl::StatusOr<core::Payment> PaymentFromProto(const posd::v1::Payment& payment);
absl::StatusOr<core::Refund> RefundFromProto(const posd::v1::Refund& refund);
absl::StatusOr<std::vector<core::Payment>> PaymentsFromProto(
    std::span<const posd::v1::Payment> payments);

// Fills the order's output-only sums (subtotal, discount_total, total,
// amount_paid, amount_refunded, amount_due, tip_total) and its payment
// summaries from `payments` (all payments of the order, oldest first).
absl::Status FillOrderSums(posd::v1::Order& order, std::span<const posd::v1::Payment> payments);

}  // namespace posd::engine
