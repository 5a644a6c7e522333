#include "service/engine/resource_rows.h"

#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/engine/domain_conversion.h"
#include "service/store/statement.h"

namespace posd::engine {
namespace {

std::string Suffix(const std::string& name, std::string_view prefix) {
  return name.substr(std::min(name.size(), prefix.size()));
}

std::string PaymentStatusName(posd::v1::PaymentStatus status) {
  return Suffix(posd::v1::PaymentStatus_Name(status), "PAYMENT_STATUS_");
}

absl::StatusOr<posd::v1::PaymentStatus> ParsePaymentStatus(std::string_view name) {
  posd::v1::PaymentStatus status;
  if (!posd::v1::PaymentStatus_Parse(StrCat("PAYMENT_STATUS_", name), &status)) {
    return absl::DataLossError(StrCat("unknown payment status '", name, "' in the database"));
  }
  return status;
}

std::string OrderStatusName(posd::v1::OrderStatus status) {
  return Suffix(posd::v1::OrderStatus_Name(status), "ORDER_STATUS_");
}

absl::StatusOr<posd::v1::OrderStatus> ParseOrderStatus(std::string_view name) {
  posd::v1::OrderStatus status;
  if (!posd::v1::OrderStatus_Parse(StrCat("ORDER_STATUS_", name), &status)) {
    return absl::DataLossError(StrCat("unknown order status '", name, "' in the database"));
  }
  return status;
}

posd::v1::ResolutionOutcome ParseOutcome(std::string_view name) {
  posd::v1::ResolutionOutcome outcome = posd::v1::RESOLUTION_OUTCOME_UNSPECIFIED;
  posd::v1::ResolutionOutcome_Parse(std::string(name), &outcome);
  return outcome;
}

absl::Status BindOptionalMillis(store::Statement& statement, int index,
                                const google::protobuf::Timestamp& time, bool present) {
  if (!present) return statement.BindNull(index);
  return statement.BindInt64(index, MillisFromTimestamp(time));
}

absl::Status BindAll(store::Statement& statement, int first,
                     const std::vector<std::string>& text_args) {
  for (size_t i = 0; i < text_args.size(); ++i) {
    POSD_RETURN_IF_ERROR(statement.BindText(first + static_cast<int>(i), text_args[i]));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SelectIds(store::Database& db, std::string_view sql,
                                                   const std::vector<std::string>& text_args) {
  POSD_ASSIGN_OR_RETURN(store::Statement select, db.Prepare(sql));
  POSD_RETURN_IF_ERROR(BindAll(select, 1, text_args));
  std::vector<std::string> ids;
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) break;
    ids.emplace_back(select.ColumnText(0));
  }
  return ids;
}

constexpr std::string_view kRefundColumns =
    "id, payment_id, device_id, status, currency, amount_minor, reason, failure_reason, "
    "approval_code, terminal_reference, resolved_by, resolved_at, resolution_reason, "
    "resolution_outcome, requested_by, request_id, created_at, updated_at, completed_at, "
    "last_event_sequence, (SELECT order_id FROM payments WHERE payments.id = payment_id)";

absl::StatusOr<posd::v1::Refund> RefundFromRow(const store::Statement& row) {
  posd::v1::Refund refund;
  refund.set_id(std::string(row.ColumnText(0)));
  refund.set_payment_id(std::string(row.ColumnText(1)));
  refund.set_device_id(std::string(row.ColumnText(2)));
  POSD_ASSIGN_OR_RETURN(const auto status, ParseRefundStatus(row.ColumnText(3)));
  refund.set_status(status);
  const std::string currency(row.ColumnText(4));
  *refund.mutable_amount() = MoneyProto(row.ColumnInt64(5), currency);
  refund.set_reason(std::string(row.ColumnText(6)));
  refund.set_failure_reason(std::string(row.ColumnText(7)));
  if (!row.ColumnText(8).empty() || !row.ColumnText(9).empty()) {
    refund.mutable_card()->set_approval_code(std::string(row.ColumnText(8)));
    refund.mutable_card()->set_terminal_reference(std::string(row.ColumnText(9)));
  }
  if (!row.ColumnIsNull(11)) {
    auto* resolution = refund.mutable_resolution();
    resolution->set_resolved_by(std::string(row.ColumnText(10)));
    *resolution->mutable_resolved_at() = TimestampFromMillis(row.ColumnInt64(11));
    resolution->set_reason(std::string(row.ColumnText(12)));
    resolution->set_outcome(ParseOutcome(row.ColumnText(13)));
  }
  refund.set_requested_by(std::string(row.ColumnText(14)));
  refund.set_request_id(std::string(row.ColumnText(15)));
  *refund.mutable_created_at() = TimestampFromMillis(row.ColumnInt64(16));
  *refund.mutable_updated_at() = TimestampFromMillis(row.ColumnInt64(17));
  if (!row.ColumnIsNull(18)) *refund.mutable_completed_at() = TimestampFromMillis(row.ColumnInt64(18));
  refund.set_last_event_sequence(static_cast<uint64_t>(row.ColumnInt64(19)));
  refund.set_order_id(std::string(row.ColumnText(20)));
  return refund;
}

absl::Status LoadRefundsInto(store::Database& db, posd::v1::Payment& payment) {
  POSD_ASSIGN_OR_RETURN(store::Statement select,
                        db.Prepare(StrCat("SELECT ", kRefundColumns,
                                          " FROM refunds WHERE payment_id = ? ORDER BY id")));
  POSD_RETURN_IF_ERROR(select.BindText(1, payment.id()));
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) break;
    POSD_ASSIGN_OR_RETURN(*payment.add_refunds(), RefundFromRow(select));
  }
  return absl::OkStatus();
}

constexpr std::string_view kPaymentColumns =
    "id, order_id, device_id, status, currency, amount_minor, tip_minor, charged_minor, "
    "refunded_minor, card_brand, masked_pan, approval_code, terminal_reference, decline_code, "
    "failure_reason, terminal_stage, terminal_message, resolved_by, resolved_at, "
    "resolution_reason, resolution_outcome, request_id, created_at, updated_at, completed_at, "
    "last_event_sequence";

absl::StatusOr<posd::v1::Payment> PaymentFromRow(const store::Statement& row) {
  posd::v1::Payment payment;
  payment.set_id(std::string(row.ColumnText(0)));
  payment.set_order_id(std::string(row.ColumnText(1)));
  payment.set_device_id(std::string(row.ColumnText(2)));
  POSD_ASSIGN_OR_RETURN(const auto status, ParsePaymentStatus(row.ColumnText(3)));
  payment.set_status(status);
  const std::string currency(row.ColumnText(4));
  *payment.mutable_amount() = MoneyProto(row.ColumnInt64(5), currency);
  *payment.mutable_tip() = MoneyProto(row.ColumnInt64(6), currency);
  if (!row.ColumnIsNull(7)) *payment.mutable_charged_amount() = MoneyProto(row.ColumnInt64(7), currency);
  *payment.mutable_refunded_amount() = MoneyProto(row.ColumnInt64(8), currency);
  if (!row.ColumnText(9).empty() || !row.ColumnText(10).empty() || !row.ColumnText(11).empty() ||
      !row.ColumnText(12).empty()) {
    auto* card = payment.mutable_card();
    card->set_brand(std::string(row.ColumnText(9)));
    card->set_masked_pan(std::string(row.ColumnText(10)));
    card->set_approval_code(std::string(row.ColumnText(11)));
    card->set_terminal_reference(std::string(row.ColumnText(12)));
  }
  payment.set_decline_code(std::string(row.ColumnText(13)));
  payment.set_failure_reason(std::string(row.ColumnText(14)));
  posd::v1::TerminalStage stage = posd::v1::TERMINAL_STAGE_UNSPECIFIED;
  posd::v1::TerminalStage_Parse(std::string(row.ColumnText(15)), &stage);
  payment.set_terminal_stage(stage);
  payment.set_terminal_message(std::string(row.ColumnText(16)));
  if (!row.ColumnIsNull(18)) {
    auto* resolution = payment.mutable_resolution();
    resolution->set_resolved_by(std::string(row.ColumnText(17)));
    *resolution->mutable_resolved_at() = TimestampFromMillis(row.ColumnInt64(18));
    resolution->set_reason(std::string(row.ColumnText(19)));
    resolution->set_outcome(ParseOutcome(row.ColumnText(20)));
  }
  payment.set_request_id(std::string(row.ColumnText(21)));
  *payment.mutable_created_at() = TimestampFromMillis(row.ColumnInt64(22));
  *payment.mutable_updated_at() = TimestampFromMillis(row.ColumnInt64(23));
  if (!row.ColumnIsNull(24)) *payment.mutable_completed_at() = TimestampFromMillis(row.ColumnInt64(24));
  payment.set_last_event_sequence(static_cast<uint64_t>(row.ColumnInt64(25)));
  return payment;
}

}  // namespace

std::string_view RecoveryPointForPayment(posd::v1::PaymentStatus status) {
  switch (status) {
    case posd::v1::PAYMENT_STATUS_CREATED: return "not_sent";
    case posd::v1::PAYMENT_STATUS_DISPATCHED:
    case posd::v1::PAYMENT_STATUS_AUTHORIZING:
    case posd::v1::PAYMENT_STATUS_IN_DOUBT: return "query";
    default: return "none";
  }
}

std::string_view RecoveryPointForRefund(posd::v1::RefundStatus status) {
  switch (status) {
    case posd::v1::REFUND_STATUS_CREATED: return "not_sent";
    case posd::v1::REFUND_STATUS_DISPATCHED:
    case posd::v1::REFUND_STATUS_PROCESSING:
    case posd::v1::REFUND_STATUS_IN_DOUBT: return "query";
    default: return "none";
  }
}

absl::StatusOr<std::optional<posd::v1::Order>> LoadOrder(store::Database& db, std::string_view id) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement select,
      db.Prepare("SELECT status, currency, external_reference, note, cancel_reason, created_at, "
                 "updated_at, placed_at, closed_at, last_event_sequence FROM orders WHERE id = ?"));
  POSD_RETURN_IF_ERROR(select.BindText(1, id));
  POSD_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (!found) return std::optional<posd::v1::Order>();
  posd::v1::Order order;
  order.set_id(std::string(id));
  POSD_ASSIGN_OR_RETURN(const auto status, ParseOrderStatus(select.ColumnText(0)));
  order.set_status(status);
  const std::string currency(select.ColumnText(1));
  order.set_currency_code(currency);
  order.set_external_reference(std::string(select.ColumnText(2)));
  order.set_note(std::string(select.ColumnText(3)));
  order.set_cancel_reason(std::string(select.ColumnText(4)));
  *order.mutable_created_at() = TimestampFromMillis(select.ColumnInt64(5));
  *order.mutable_updated_at() = TimestampFromMillis(select.ColumnInt64(6));
  if (!select.ColumnIsNull(7)) *order.mutable_placed_at() = TimestampFromMillis(select.ColumnInt64(7));
  if (!select.ColumnIsNull(8)) *order.mutable_closed_at() = TimestampFromMillis(select.ColumnInt64(8));
  order.set_last_event_sequence(static_cast<uint64_t>(select.ColumnInt64(9)));

  POSD_ASSIGN_OR_RETURN(store::Statement lines,
                        db.Prepare("SELECT line_id, sku, name, quantity, unit_price_minor FROM "
                                   "order_lines WHERE order_id = ? ORDER BY position"));
  POSD_RETURN_IF_ERROR(lines.BindText(1, id));
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, lines.Step());
    if (!row) break;
    auto* line = order.add_lines();
    line->set_line_id(std::string(lines.ColumnText(0)));
    line->set_sku(std::string(lines.ColumnText(1)));
    line->set_name(std::string(lines.ColumnText(2)));
    line->set_quantity(static_cast<int32_t>(lines.ColumnInt64(3)));
    *line->mutable_unit_price() = MoneyProto(lines.ColumnInt64(4), currency);
  }
  POSD_ASSIGN_OR_RETURN(store::Statement discounts,
                        db.Prepare("SELECT plugin, coupon_code, description, amount_minor, line_id "
                                   "FROM order_discounts WHERE order_id = ? ORDER BY position"));
  POSD_RETURN_IF_ERROR(discounts.BindText(1, id));
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, discounts.Step());
    if (!row) break;
    auto* discount = order.add_discounts();
    discount->set_plugin(std::string(discounts.ColumnText(0)));
    discount->set_coupon_code(std::string(discounts.ColumnText(1)));
    discount->set_description(std::string(discounts.ColumnText(2)));
    *discount->mutable_amount() = MoneyProto(discounts.ColumnInt64(3), currency);
    discount->set_line_id(std::string(discounts.ColumnText(4)));
  }
  POSD_ASSIGN_OR_RETURN(store::Statement coupons,
                        db.Prepare("SELECT code FROM order_coupons WHERE order_id = ? "
                                   "ORDER BY position"));
  POSD_RETURN_IF_ERROR(coupons.BindText(1, id));
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, coupons.Step());
    if (!row) break;
    order.add_coupon_codes(std::string(coupons.ColumnText(0)));
  }
  POSD_ASSIGN_OR_RETURN(store::Statement labels,
                        db.Prepare("SELECT key, value FROM order_labels WHERE order_id = ?"));
  POSD_RETURN_IF_ERROR(labels.BindText(1, id));
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, labels.Step());
    if (!row) break;
    (*order.mutable_labels())[std::string(labels.ColumnText(0))] = std::string(labels.ColumnText(1));
  }
  POSD_ASSIGN_OR_RETURN(std::vector<posd::v1::Payment> payments, LoadPaymentsOfOrder(db, id));
  POSD_RETURN_IF_ERROR(FillOrderSums(order, payments));
  return order;
}

absl::Status InsertOrder(store::Database& db, const posd::v1::Order& order) {
  POSD_ASSIGN_OR_RETURN(store::Statement insert,
                        db.Prepare("INSERT INTO orders (id, status, currency, external_reference, "
                                   "note, request_id, created_at, updated_at) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  POSD_RETURN_IF_ERROR(insert.BindText(1, order.id()));
  POSD_RETURN_IF_ERROR(insert.BindText(2, OrderStatusName(order.status())));
  POSD_RETURN_IF_ERROR(insert.BindText(3, order.currency_code()));
  POSD_RETURN_IF_ERROR(insert.BindText(4, order.external_reference()));
  POSD_RETURN_IF_ERROR(insert.BindText(5, order.note()));
  POSD_RETURN_IF_ERROR(insert.BindText(6, ""));
  POSD_RETURN_IF_ERROR(insert.BindInt64(7, MillisFromTimestamp(order.created_at())));
  POSD_RETURN_IF_ERROR(insert.BindInt64(8, MillisFromTimestamp(order.updated_at())));
  POSD_RETURN_IF_ERROR(insert.Run());
  POSD_ASSIGN_OR_RETURN(store::Statement line,
                        db.Prepare("INSERT INTO order_lines (order_id, position, line_id, sku, "
                                   "name, quantity, unit_price_minor) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  for (int i = 0; i < order.lines_size(); ++i) {
    const auto& l = order.lines(i);
    line.Reset();
    POSD_RETURN_IF_ERROR(line.BindText(1, order.id()));
    POSD_RETURN_IF_ERROR(line.BindInt64(2, i));
    POSD_RETURN_IF_ERROR(line.BindText(3, l.line_id()));
    POSD_RETURN_IF_ERROR(line.BindText(4, l.sku()));
    POSD_RETURN_IF_ERROR(line.BindText(5, l.name()));
    POSD_RETURN_IF_ERROR(line.BindInt64(6, l.quantity()));
    POSD_RETURN_IF_ERROR(line.BindInt64(7, l.unit_price().amount_minor()));
    POSD_RETURN_IF_ERROR(line.Run());
  }
  POSD_ASSIGN_OR_RETURN(store::Statement coupon,
                        db.Prepare("INSERT INTO order_coupons (order_id, position, code) "
                                   "VALUES (?, ?, ?)"));
  for (int i = 0; i < order.coupon_codes_size(); ++i) {
    coupon.Reset();
    POSD_RETURN_IF_ERROR(coupon.BindText(1, order.id()));
    POSD_RETURN_IF_ERROR(coupon.BindInt64(2, i));
    POSD_RETURN_IF_ERROR(coupon.BindText(3, order.coupon_codes(i)));
    POSD_RETURN_IF_ERROR(coupon.Run());
  }
  POSD_ASSIGN_OR_RETURN(store::Statement label,
                        db.Prepare("INSERT INTO order_labels (order_id, key, value) "
                                   "VALUES (?, ?, ?)"));
  for (const auto& [key, value] : order.labels()) {
    label.Reset();
    POSD_RETURN_IF_ERROR(label.BindText(1, order.id()));
    POSD_RETURN_IF_ERROR(label.BindText(2, key));
    POSD_RETURN_IF_ERROR(label.BindText(3, value));
    POSD_RETURN_IF_ERROR(label.Run());
  }
  return UpdateOrder(db, order);
}

absl::Status UpdateOrder(store::Database& db, const posd::v1::Order& order) {
  POSD_ASSIGN_OR_RETURN(store::Statement update,
                        db.Prepare("UPDATE orders SET status = ?, cancel_reason = ?, "
                                   "updated_at = ?, placed_at = ?, closed_at = ?, "
                                   "last_event_sequence = ? WHERE id = ?"));
  POSD_RETURN_IF_ERROR(update.BindText(1, OrderStatusName(order.status())));
  POSD_RETURN_IF_ERROR(update.BindText(2, order.cancel_reason()));
  POSD_RETURN_IF_ERROR(update.BindInt64(3, MillisFromTimestamp(order.updated_at())));
  POSD_RETURN_IF_ERROR(BindOptionalMillis(update, 4, order.placed_at(), order.has_placed_at()));
  POSD_RETURN_IF_ERROR(BindOptionalMillis(update, 5, order.closed_at(), order.has_closed_at()));
  POSD_RETURN_IF_ERROR(update.BindInt64(6, static_cast<int64_t>(order.last_event_sequence())));
  POSD_RETURN_IF_ERROR(update.BindText(7, order.id()));
  POSD_RETURN_IF_ERROR(update.Run());
  if (db.changes() != 1) return absl::NotFoundError(StrCat("no order ", order.id()));
  POSD_ASSIGN_OR_RETURN(store::Statement clear,
                        db.Prepare("DELETE FROM order_discounts WHERE order_id = ?"));
  POSD_RETURN_IF_ERROR(clear.BindText(1, order.id()));
  POSD_RETURN_IF_ERROR(clear.Run());
  POSD_ASSIGN_OR_RETURN(store::Statement discount,
                        db.Prepare("INSERT INTO order_discounts (order_id, position, plugin, "
                                   "coupon_code, description, amount_minor, line_id) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  for (int i = 0; i < order.discounts_size(); ++i) {
    const auto& d = order.discounts(i);
    discount.Reset();
    POSD_RETURN_IF_ERROR(discount.BindText(1, order.id()));
    POSD_RETURN_IF_ERROR(discount.BindInt64(2, i));
    POSD_RETURN_IF_ERROR(discount.BindText(3, d.plugin()));
    POSD_RETURN_IF_ERROR(discount.BindText(4, d.coupon_code()));
    POSD_RETURN_IF_ERROR(discount.BindText(5, d.description()));
    POSD_RETURN_IF_ERROR(discount.BindInt64(6, d.amount().amount_minor()));
    POSD_RETURN_IF_ERROR(discount.BindText(7, d.line_id()));
    POSD_RETURN_IF_ERROR(discount.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<posd::v1::Payment>> LoadPayment(store::Database& db,
                                                             std::string_view id) {
  POSD_ASSIGN_OR_RETURN(store::Statement select,
                        db.Prepare(StrCat("SELECT ", kPaymentColumns,
                                          " FROM payments WHERE id = ?")));
  POSD_RETURN_IF_ERROR(select.BindText(1, id));
  POSD_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (!found) return std::optional<posd::v1::Payment>();
  POSD_ASSIGN_OR_RETURN(posd::v1::Payment payment, PaymentFromRow(select));
  POSD_RETURN_IF_ERROR(LoadRefundsInto(db, payment));
  return std::optional<posd::v1::Payment>(std::move(payment));
}

absl::StatusOr<std::vector<posd::v1::Payment>> LoadPaymentsOfOrder(store::Database& db,
                                                                   std::string_view order_id) {
  POSD_ASSIGN_OR_RETURN(store::Statement select,
                        db.Prepare(StrCat("SELECT ", kPaymentColumns,
                                          " FROM payments WHERE order_id = ? ORDER BY id")));
  POSD_RETURN_IF_ERROR(select.BindText(1, order_id));
  std::vector<posd::v1::Payment> payments;
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) break;
    POSD_ASSIGN_OR_RETURN(posd::v1::Payment payment, PaymentFromRow(select));
    payments.push_back(std::move(payment));
  }
  for (auto& payment : payments) POSD_RETURN_IF_ERROR(LoadRefundsInto(db, payment));
  return payments;
}

absl::StatusOr<std::vector<std::string>> SelectPaymentIds(store::Database& db,
                                                          std::string_view where,
                                                          const std::vector<std::string>& text_args) {
  return SelectIds(db, StrCat("SELECT id FROM payments WHERE ", where, " ORDER BY id"), text_args);
}

absl::Status WritePayment(store::Database& db, const posd::v1::Payment& payment) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement upsert,
      db.Prepare(
          "INSERT INTO payments (id, order_id, device_id, status, currency, amount_minor, "
          "tip_minor, charged_minor, refunded_minor, terminal_transaction_id, recovery_point, "
          "card_brand, masked_pan, approval_code, terminal_reference, decline_code, "
          "failure_reason, terminal_stage, terminal_message, resolved_by, resolved_at, "
          "resolution_reason, resolution_outcome, request_id, created_at, updated_at, "
          "completed_at, last_event_sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?1, "
          "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, "
          "?27) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
          "tip_minor = excluded.tip_minor, charged_minor = excluded.charged_minor, "
          "refunded_minor = excluded.refunded_minor, recovery_point = excluded.recovery_point, "
          "card_brand = excluded.card_brand, masked_pan = excluded.masked_pan, "
          "approval_code = excluded.approval_code, "
          "terminal_reference = excluded.terminal_reference, "
          "decline_code = excluded.decline_code, failure_reason = excluded.failure_reason, "
          "terminal_stage = excluded.terminal_stage, "
          "terminal_message = excluded.terminal_message, resolved_by = excluded.resolved_by, "
          "resolved_at = excluded.resolved_at, resolution_reason = excluded.resolution_reason, "
          "resolution_outcome = excluded.resolution_outcome, updated_at = excluded.updated_at, "
          "completed_at = excluded.completed_at, "
          "last_event_sequence = excluded.last_event_sequence"));
  POSD_RETURN_IF_ERROR(upsert.BindText(1, payment.id()));
  if (payment.order_id().empty()) {
    POSD_RETURN_IF_ERROR(upsert.BindNull(2));
  } else {
    POSD_RETURN_IF_ERROR(upsert.BindText(2, payment.order_id()));
  }
  POSD_RETURN_IF_ERROR(upsert.BindText(3, payment.device_id()));
  POSD_RETURN_IF_ERROR(upsert.BindText(4, PaymentStatusName(payment.status())));
  POSD_RETURN_IF_ERROR(upsert.BindText(5, payment.amount().currency_code()));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(6, payment.amount().amount_minor()));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(7, payment.tip().amount_minor()));
  if (payment.has_charged_amount()) {
    POSD_RETURN_IF_ERROR(upsert.BindInt64(8, payment.charged_amount().amount_minor()));
  } else {
    POSD_RETURN_IF_ERROR(upsert.BindNull(8));
  }
  POSD_RETURN_IF_ERROR(upsert.BindInt64(9, payment.refunded_amount().amount_minor()));
  POSD_RETURN_IF_ERROR(upsert.BindText(10, RecoveryPointForPayment(payment.status())));
  POSD_RETURN_IF_ERROR(upsert.BindText(11, payment.card().brand()));
  POSD_RETURN_IF_ERROR(upsert.BindText(12, payment.card().masked_pan()));
  POSD_RETURN_IF_ERROR(upsert.BindText(13, payment.card().approval_code()));
  POSD_RETURN_IF_ERROR(upsert.BindText(14, payment.card().terminal_reference()));
  POSD_RETURN_IF_ERROR(upsert.BindText(15, payment.decline_code()));
  POSD_RETURN_IF_ERROR(upsert.BindText(16, payment.failure_reason()));
  POSD_RETURN_IF_ERROR(upsert.BindText(17, payment.terminal_stage() == posd::v1::TERMINAL_STAGE_UNSPECIFIED
                                               ? std::string()
                                               : posd::v1::TerminalStage_Name(payment.terminal_stage())));
  POSD_RETURN_IF_ERROR(upsert.BindText(18, payment.terminal_message()));
  POSD_RETURN_IF_ERROR(upsert.BindText(19, payment.resolution().resolved_by()));
  POSD_RETURN_IF_ERROR(BindOptionalMillis(upsert, 20, payment.resolution().resolved_at(),
                                          payment.has_resolution()));
  POSD_RETURN_IF_ERROR(upsert.BindText(21, payment.resolution().reason()));
  POSD_RETURN_IF_ERROR(upsert.BindText(
      22, payment.has_resolution() ? posd::v1::ResolutionOutcome_Name(payment.resolution().outcome())
                                   : std::string()));
  POSD_RETURN_IF_ERROR(upsert.BindText(23, payment.request_id()));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(24, MillisFromTimestamp(payment.created_at())));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(25, MillisFromTimestamp(payment.updated_at())));
  POSD_RETURN_IF_ERROR(BindOptionalMillis(upsert, 26, payment.completed_at(),
                                          payment.has_completed_at()));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(27, static_cast<int64_t>(payment.last_event_sequence())));
  return upsert.Run();
}

absl::Status MarkCancelRequested(store::Database& db, std::string_view payment_id) {
  POSD_ASSIGN_OR_RETURN(store::Statement update,
                        db.Prepare("UPDATE payments SET cancel_requested = 1 WHERE id = ?"));
  POSD_RETURN_IF_ERROR(update.BindText(1, payment_id));
  return update.Run();
}

absl::StatusOr<bool> CancelRequested(store::Database& db, std::string_view payment_id) {
  POSD_ASSIGN_OR_RETURN(store::Statement select,
                        db.Prepare("SELECT cancel_requested FROM payments WHERE id = ?"));
  POSD_RETURN_IF_ERROR(select.BindText(1, payment_id));
  POSD_ASSIGN_OR_RETURN(const bool found, select.Step());
  return found && select.ColumnInt64(0) != 0;
}

absl::StatusOr<std::optional<posd::v1::Refund>> LoadRefund(store::Database& db,
                                                           std::string_view id) {
  POSD_ASSIGN_OR_RETURN(store::Statement select,
                        db.Prepare(StrCat("SELECT ", kRefundColumns, " FROM refunds WHERE id = ?")));
  POSD_RETURN_IF_ERROR(select.BindText(1, id));
  POSD_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (!found) return std::optional<posd::v1::Refund>();
  POSD_ASSIGN_OR_RETURN(posd::v1::Refund refund, RefundFromRow(select));
  return std::optional<posd::v1::Refund>(std::move(refund));
}

absl::StatusOr<std::vector<std::string>> SelectRefundIds(store::Database& db,
                                                         std::string_view where,
                                                         const std::vector<std::string>& text_args) {
  return SelectIds(db, StrCat("SELECT id FROM refunds WHERE ", where, " ORDER BY id"), text_args);
}

absl::Status WriteRefund(store::Database& db, const posd::v1::Refund& refund) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement upsert,
      db.Prepare(
          "INSERT INTO refunds (id, payment_id, device_id, status, currency, amount_minor, "
          "reason, recovery_point, failure_reason, approval_code, terminal_reference, "
          "resolved_by, resolved_at, resolution_reason, resolution_outcome, requested_by, "
          "request_id, created_at, updated_at, completed_at, last_event_sequence) VALUES (?1, "
          "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
          "?20, ?21) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
          "recovery_point = excluded.recovery_point, failure_reason = excluded.failure_reason, "
          "approval_code = excluded.approval_code, "
          "terminal_reference = excluded.terminal_reference, resolved_by = excluded.resolved_by, "
          "resolved_at = excluded.resolved_at, resolution_reason = excluded.resolution_reason, "
          "resolution_outcome = excluded.resolution_outcome, updated_at = excluded.updated_at, "
          "completed_at = excluded.completed_at, "
          "last_event_sequence = excluded.last_event_sequence"));
  POSD_RETURN_IF_ERROR(upsert.BindText(1, refund.id()));
  POSD_RETURN_IF_ERROR(upsert.BindText(2, refund.payment_id()));
  POSD_RETURN_IF_ERROR(upsert.BindText(3, refund.device_id()));
  POSD_RETURN_IF_ERROR(upsert.BindText(4, RefundStatusName(refund.status())));
  POSD_RETURN_IF_ERROR(upsert.BindText(5, refund.amount().currency_code()));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(6, refund.amount().amount_minor()));
  POSD_RETURN_IF_ERROR(upsert.BindText(7, refund.reason()));
  POSD_RETURN_IF_ERROR(upsert.BindText(8, RecoveryPointForRefund(refund.status())));
  POSD_RETURN_IF_ERROR(upsert.BindText(9, refund.failure_reason()));
  POSD_RETURN_IF_ERROR(upsert.BindText(10, refund.card().approval_code()));
  POSD_RETURN_IF_ERROR(upsert.BindText(11, refund.card().terminal_reference()));
  POSD_RETURN_IF_ERROR(upsert.BindText(12, refund.resolution().resolved_by()));
  POSD_RETURN_IF_ERROR(BindOptionalMillis(upsert, 13, refund.resolution().resolved_at(),
                                          refund.has_resolution()));
  POSD_RETURN_IF_ERROR(upsert.BindText(14, refund.resolution().reason()));
  POSD_RETURN_IF_ERROR(upsert.BindText(
      15, refund.has_resolution() ? posd::v1::ResolutionOutcome_Name(refund.resolution().outcome())
                                  : std::string()));
  POSD_RETURN_IF_ERROR(upsert.BindText(16, refund.requested_by()));
  POSD_RETURN_IF_ERROR(upsert.BindText(17, refund.request_id()));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(18, MillisFromTimestamp(refund.created_at())));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(19, MillisFromTimestamp(refund.updated_at())));
  POSD_RETURN_IF_ERROR(BindOptionalMillis(upsert, 20, refund.completed_at(),
                                          refund.has_completed_at()));
  POSD_RETURN_IF_ERROR(upsert.BindInt64(21, static_cast<int64_t>(refund.last_event_sequence())));
  return upsert.Run();
}

}  // namespace posd::engine
