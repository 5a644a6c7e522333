// Reading and writing orders, payments and refunds as rows of the v3 schema
// (service/store/migrations.cc), as posd.v1 messages.
//
// The functions neither begin nor commit: the caller holds the transaction
// (the engine's writer) or a read snapshot (a reader). Thread safety: as the
// Database passed in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "service/store/database.h"

namespace posd::engine {

// What a restarted posd does with a payment or refund in this status:
// "not_sent" (nothing left posd), "query" (the terminal may have it), "none".
std::string_view RecoveryPointForPayment(posd::v1::PaymentStatus status);
std::string_view RecoveryPointForRefund(posd::v1::RefundStatus status);

// The order with its lines, discounts, coupons, labels, payment summaries and
// sums; nullopt when there is none.
absl::StatusOr<std::optional<posd::v1::Order>> LoadOrder(store::Database& db, std::string_view id);
// Inserts a new order with its lines, coupons and labels.
absl::Status InsertOrder(store::Database& db, const posd::v1::Order& order);
// Updates the order's mutable columns and replaces its discounts.
absl::Status UpdateOrder(store::Database& db, const posd::v1::Order& order);

// The payment with its refunds; nullopt when there is none.
absl::StatusOr<std::optional<posd::v1::Payment>> LoadPayment(store::Database& db,
                                                             std::string_view id);
// Every payment of `order_id`, oldest first, with their refunds.
absl::StatusOr<std::vector<posd::v1::Payment>> LoadPaymentsOfOrder(store::Database& db,
                                                                   std::string_view order_id);
// Ids of payments matching `where` (an SQL condition on the payments table,
// with `text_args` bound in order), oldest first.
absl::StatusOr<std::vector<std::string>> SelectPaymentIds(store::Database& db,
                                                          std::string_view where,
                                                          const std::vector<std::string>& text_args);
// Inserts or updates every column of the payment (not its refunds).
absl::Status WritePayment(store::Database& db, const posd::v1::Payment& payment);
absl::Status MarkCancelRequested(store::Database& db, std::string_view payment_id);
// Whether CancelPayment asked the terminal to abort `payment_id` (durable, so
// that recovery asks again). False for an unknown id.
absl::StatusOr<bool> CancelRequested(store::Database& db, std::string_view payment_id);

absl::StatusOr<std::optional<posd::v1::Refund>> LoadRefund(store::Database& db, std::string_view id);
absl::StatusOr<std::vector<std::string>> SelectRefundIds(store::Database& db,
                                                         std::string_view where,
                                                         const std::vector<std::string>& text_args);
absl::Status WriteRefund(store::Database& db, const posd::v1::Refund& refund);

}  // namespace posd::engine
