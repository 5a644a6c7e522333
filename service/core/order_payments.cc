#include "service/core/order_payments.h"

#include <algorithm>

#include "service/common/strings.h"
#include "service/common/status_macros.h"

namespace posd::core {
namespace {

absl::Status CheckBelongs(const Order& order, std::span<const Payment> payments) {
  for (const Payment& payment : payments) {
    if (!payment.order_id.has_value() || *payment.order_id != order.id) {
      return absl::InvalidArgumentError(
          posd::StrCat("payment ", payment.id.str(), " does not belong to order ", order.id.str()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNoneUnfinished(const Order& order, std::span<const Payment> payments,
                                 std::string_view action) {
  for (const Payment& payment : payments) {
    if (!MayStartNewPaymentForOrder(payment.state)) {
      return absl::FailedPreconditionError(posd::StrCat(
          "cannot ", action, " order ", order.id.str(), ": payment ", payment.id.str(), " is ",
          ToString(payment.state), " and might still charge; wait for or resolve it first"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Money> PaidTowardOrder(const Payment& payment) {
  if (!WasApproved(payment.state)) return Money::Zero(payment.currency());
  // After a partial approval only what the terminal approved pays the order.
  POSD_ASSIGN_OR_RETURN(const Money approved, payment.ApprovedAmount());
  if (payment.refunded_amount >= approved) return Money::Zero(payment.currency());
  return approved.Subtract(payment.refunded_amount);
}

absl::StatusOr<Money> RemainingToPay(const Order& order, std::span<const Payment> payments) {
  POSD_RETURN_IF_ERROR(CheckBelongs(order, payments));
  POSD_ASSIGN_OR_RETURN(Money remaining, order.Total());
  for (const Payment& payment : payments) {
    POSD_ASSIGN_OR_RETURN(Money paid, PaidTowardOrder(payment));
    POSD_ASSIGN_OR_RETURN(remaining, remaining.Subtract(paid));
  }
  return remaining;
}

absl::Status CheckNewPayment(const Order& order, std::span<const Payment> payments,
                             const Money& amount, const Money& tip) {
  if (amount.currency() != order.currency || tip.currency() != order.currency) {
    return absl::InvalidArgumentError(posd::StrCat(
        "payment of ", amount.ToString(), " + tip ", tip.ToString(),
        " is not in the currency of order ", order.id.str(), " (", order.currency.code(), ")"));
  }
  if (!amount.is_positive()) {
    return absl::InvalidArgumentError(
        posd::StrCat("payment amount must be > 0, got ", amount.ToString()));
  }
  if (tip.is_negative()) {
    return absl::InvalidArgumentError(posd::StrCat("tip must be >= 0, got ", tip.ToString()));
  }
  POSD_RETURN_IF_ERROR(CheckBelongs(order, payments));
  if (!AcceptsPayments(order.state)) {
    return absl::FailedPreconditionError(
        posd::StrCat("order ", order.id.str(), " is ", ToString(order.state),
                     "; payments are accepted only for PLACED or PARTIALLY_PAID orders"));
  }
  POSD_RETURN_IF_ERROR(CheckNoneUnfinished(order, payments, "start a payment for"));
  POSD_ASSIGN_OR_RETURN(Money remaining, RemainingToPay(order, payments));
  if (amount > remaining) {
    return absl::OutOfRangeError(posd::StrCat("payment of ", amount.ToString(),
                                              " exceeds the ", remaining.ToString(),
                                              " remaining on order ", order.id.str()));
  }
  return absl::OkStatus();
}

absl::StatusOr<OrderEvent> OrderEventForApprovedPayment(const Order& order,
                                                        std::span<const Payment> payments) {
  POSD_ASSIGN_OR_RETURN(Money remaining, RemainingToPay(order, payments));
  return remaining.is_positive() ? OrderEvent::kPaymentApprovedPartial
                                 : OrderEvent::kPaymentApprovedCovering;
}

absl::StatusOr<OrderEvent> OrderEventForCompletedRefund(const Order& order,
                                                        std::span<const Payment> payments) {
  POSD_RETURN_IF_ERROR(CheckBelongs(order, payments));
  const auto approved = [](const Payment& p) { return WasApproved(p.state); };
  if (std::none_of(payments.begin(), payments.end(), approved)) {
    return absl::FailedPreconditionError(
        posd::StrCat("order ", order.id.str(), " has no approved payment to refund"));
  }
  const bool all_refunded = std::all_of(payments.begin(), payments.end(), [&](const Payment& p) {
    return !approved(p) || p.state == PaymentState::kRefunded;
  });
  return all_refunded ? OrderEvent::kRefundCompletedFull : OrderEvent::kRefundCompletedPartial;
}

absl::Status CheckOrderCancelable(const Order& order, std::span<const Payment> payments) {
  POSD_RETURN_IF_ERROR(CheckBelongs(order, payments));
  POSD_RETURN_IF_ERROR(NextOrderState(order.state, OrderEvent::kCancel).status());
  POSD_RETURN_IF_ERROR(CheckNoneUnfinished(order, payments, "cancel"));
  for (const Payment& payment : payments) {
    if (WasApproved(payment.state)) {
      return absl::FailedPreconditionError(
          posd::StrCat("cannot cancel order ", order.id.str(), ": payment ", payment.id.str(),
                       " was approved; refund it instead"));
    }
  }
  return absl::OkStatus();
}

}  // namespace posd::core
