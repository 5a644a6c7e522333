#include "service/engine/queries.h"

#include <algorithm>
#include <charconv>

#include "service/common/error_info.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/engine/domain_conversion.h"
#include "service/engine/hook_run_rows.h"
#include "service/engine/request_journal.h"
#include "service/engine/resource_rows.h"
#include "service/store/statement.h"

namespace posd::engine {
namespace {

std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char c : bytes) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex;
}

// Page tokens are "<digest of the filters and the position>:<position>", so a
// token is only valid with the filters it came from, and one cut short or
// edited no longer matches its digest.
std::string TokenDigest(const google::protobuf::Message& filters, std::string_view position) {
  return HexOf(RequestHash(filters.GetTypeName(),
                           StrCat(filters.SerializeAsString(), "\n", position)));
}

std::string MakeToken(const google::protobuf::Message& filters, std::string_view position) {
  return StrCat(TokenDigest(filters, position), ":", position);
}

absl::Status InvalidPageToken(std::string_view why) {
  return WithErrorDetails(absl::InvalidArgumentError(StrCat("page_token ", why)),
                          ErrorDetails{.reason = ErrorReason::kInvalidPageToken,
                                       .metadata = {{"field", "page_token"}}});
}

absl::StatusOr<std::string> TokenPosition(std::string_view token,
                                          const google::protobuf::Message& filters) {
  if (token.empty()) return std::string();
  const size_t colon = token.find(':');
  if (colon == std::string_view::npos || colon + 1 == token.size() ||
      token.substr(0, colon) != TokenDigest(filters, token.substr(colon + 1))) {
    return InvalidPageToken("is malformed or belongs to a request with other filters");
  }
  return std::string(token.substr(colon + 1));
}

int PageSize(int32_t requested, int default_size, int max_size) {
  if (requested <= 0) return default_size;
  return std::min(requested, max_size);
}

// Keeps a read snapshot open for the lifetime of the object.
class ReadSnapshot {
 public:
  static absl::StatusOr<ReadSnapshot> Begin(store::Database& db) {
    POSD_RETURN_IF_ERROR(db.Execute("BEGIN"));
    return ReadSnapshot(&db);
  }
  ReadSnapshot(ReadSnapshot&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  ReadSnapshot(const ReadSnapshot&) = delete;
  ~ReadSnapshot() {
    if (db_ != nullptr && db_->in_transaction()) (void)db_->Execute("COMMIT");
  }

 private:
  explicit ReadSnapshot(store::Database* db) : db_(db) {}
  store::Database* db_;
};

absl::StatusOr<uint64_t> Head(store::Database& db) {
  POSD_ASSIGN_OR_RETURN(const int64_t head,
                        db.QueryInt64("SELECT COALESCE(max(sequence), 0) FROM event_log"));
  return static_cast<uint64_t>(head);
}

absl::StatusOr<std::vector<posd::v1::Event>> Events(store::Database& db, uint64_t after,
                                                    size_t max) {
  POSD_ASSIGN_OR_RETURN(store::Statement select,
                        db.Prepare("SELECT payload FROM event_log WHERE sequence > ? "
                                   "ORDER BY sequence LIMIT ?"));
  POSD_RETURN_IF_ERROR(select.BindInt64(1, static_cast<int64_t>(after)));
  POSD_RETURN_IF_ERROR(select.BindInt64(2, static_cast<int64_t>(max)));
  std::vector<posd::v1::Event> events;
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) break;
    posd::v1::Event event;
    const std::string_view payload = select.ColumnBlob(0);
    if (!event.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      return absl::DataLossError("an event in the event log is unreadable");
    }
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace

bool EventMatches(const posd::v1::Event& event, const posd::v1::EventFilter& filter) {
  if (!filter.kinds().empty() &&
      std::find(filter.kinds().begin(), filter.kinds().end(), event.kind()) ==
          filter.kinds().end()) {
    return false;
  }
  if (!filter.order_id().empty()) {
    const std::string& id = filter.order_id();
    const bool match = (event.has_order() && event.order().id() == id) ||
                       (event.has_payment() && event.payment().order_id() == id) ||
                       (event.has_refund() && event.refund().order_id() == id) ||
                       (event.has_payment_progress() && event.payment_progress().order_id() == id) ||
                       (event.has_hook_run() && event.hook_run().order_id() == id);
    if (!match) return false;
  }
  if (!filter.payment_id().empty()) {
    const std::string& id = filter.payment_id();
    const bool match = (event.has_payment() && event.payment().id() == id) ||
                       (event.has_refund() && event.refund().payment_id() == id) ||
                       (event.has_payment_progress() &&
                        event.payment_progress().payment_id() == id) ||
                       (event.has_hook_run() && event.hook_run().payment_id() == id);
    if (!match) return false;
  }
  if (!filter.device_id().empty()) {
    const std::string& id = filter.device_id();
    const bool match = (event.has_payment() && event.payment().device_id() == id) ||
                       (event.has_refund() && event.refund().device_id() == id) ||
                       (event.has_payment_progress() && event.payment_progress().device_id() == id) ||
                       (event.has_device() && event.device().id() == id);
    if (!match) return false;
  }
  return true;
}

// A borrowed reader, returned to the pool on destruction.
class Queries::Lease {
 public:
  Lease(Queries& owner, std::unique_ptr<store::Database> db) : owner_(owner), db_(std::move(db)) {}
  ~Lease() {
    if (db_ != nullptr) owner_.Return(std::move(db_));
  }
  Lease(const Lease&) = delete;
  store::Database& db() { return *db_; }

 private:
  Queries& owner_;
  std::unique_ptr<store::Database> db_;
};

absl::StatusOr<std::unique_ptr<store::Database>> Queries::Borrow() {
  {
    const std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto reader = std::move(idle_.back());
      idle_.pop_back();
      return reader;
    }
  }
  return store_.OpenReader();
}

void Queries::Return(std::unique_ptr<store::Database> reader) {
  if (reader->in_transaction()) (void)reader->Execute("ROLLBACK");
  const std::lock_guard lock(mutex_);
  if (idle_.size() < 8) idle_.push_back(std::move(reader));
}

#define POSD_LEASE(lease)                                      \
  POSD_ASSIGN_OR_RETURN(auto lease##_db, Borrow());            \
  Lease lease(*this, std::move(lease##_db))

absl::StatusOr<posd::v1::Order> Queries::GetOrder(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("order_id is required");
  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(lease.db()));
  POSD_ASSIGN_OR_RETURN(auto order, LoadOrder(lease.db(), id));
  if (!order.has_value()) return absl::NotFoundError(StrCat("no order ", id));
  return *std::move(order);
}

absl::StatusOr<posd::v1::Payment> Queries::GetPayment(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("payment_id is required");
  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(lease.db()));
  POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(lease.db(), id));
  if (!payment.has_value()) return absl::NotFoundError(StrCat("no payment ", id));
  return *std::move(payment);
}

absl::StatusOr<posd::v1::Refund> Queries::GetRefund(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("refund_id is required");
  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(lease.db(), id));
  if (!refund.has_value()) return absl::NotFoundError(StrCat("no refund ", id));
  return *std::move(refund);
}

absl::StatusOr<posd::v1::ListOrdersResponse> Queries::ListOrders(
    const posd::v1::ListOrdersRequest& request) {
  posd::v1::ListOrdersRequest filters = request;
  filters.clear_page_size();
  filters.clear_page_token();
  POSD_ASSIGN_OR_RETURN(const std::string after, TokenPosition(request.page_token(), filters));
  const int page_size = PageSize(request.page_size(), 50, 500);

  std::string sql = "SELECT id FROM orders WHERE 1 = 1";
  std::vector<std::string> texts;
  std::vector<int64_t> numbers;  // bound after the texts
  if (!request.statuses().empty()) {
    sql += " AND status IN (";
    for (int i = 0; i < request.statuses_size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      const std::string name = posd::v1::OrderStatus_Name(request.statuses(i));
      texts.push_back(name.substr(std::min(name.size(), std::size("ORDER_STATUS_") - 1)));
    }
    sql += ")";
  }
  if (!request.external_reference().empty()) {
    sql += " AND external_reference = ?";
    texts.push_back(request.external_reference());
  }
  if (!after.empty()) {
    sql += " AND id < ?";
    texts.push_back(after);
  }
  if (request.has_created_after()) {
    sql += " AND created_at >= ?";
    numbers.push_back(MillisFromTimestamp(request.created_after()));
  }
  if (request.has_created_before()) {
    sql += " AND created_at < ?";
    numbers.push_back(MillisFromTimestamp(request.created_before()));
  }
  sql += " ORDER BY id DESC LIMIT ?";
  numbers.push_back(page_size + 1);

  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(lease.db()));
  posd::v1::ListOrdersResponse response;
  POSD_ASSIGN_OR_RETURN(const uint64_t head, Head(lease.db()));
  response.set_as_of_sequence(head);
  std::vector<std::string> ids;
  {
    POSD_ASSIGN_OR_RETURN(store::Statement select, lease.db().Prepare(sql));
    int index = 1;
    for (const auto& text : texts) POSD_RETURN_IF_ERROR(select.BindText(index++, text));
    for (const int64_t number : numbers) POSD_RETURN_IF_ERROR(select.BindInt64(index++, number));
    while (true) {
      POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
      if (!row) break;
      ids.emplace_back(select.ColumnText(0));
    }
  }
  const bool more = ids.size() > static_cast<size_t>(page_size);
  if (more) ids.resize(static_cast<size_t>(page_size));
  for (const auto& id : ids) {
    POSD_ASSIGN_OR_RETURN(auto order, LoadOrder(lease.db(), id));
    if (order.has_value()) *response.add_orders() = *std::move(order);
  }
  if (more) response.set_next_page_token(MakeToken(filters, ids.back()));
  return response;
}

absl::StatusOr<posd::v1::ListPaymentsResponse> Queries::ListPayments(
    const posd::v1::ListPaymentsRequest& request) {
  posd::v1::ListPaymentsRequest filters = request;
  filters.clear_page_size();
  filters.clear_page_token();
  POSD_ASSIGN_OR_RETURN(const std::string after, TokenPosition(request.page_token(), filters));
  const int page_size = PageSize(request.page_size(), 50, 500);

  std::string sql = "SELECT id FROM payments WHERE 1 = 1";
  std::vector<std::string> texts;
  std::vector<int64_t> numbers;
  if (!request.statuses().empty()) {
    sql += " AND status IN (";
    for (int i = 0; i < request.statuses_size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      const std::string name = posd::v1::PaymentStatus_Name(request.statuses(i));
      texts.push_back(name.substr(std::min(name.size(), std::size("PAYMENT_STATUS_") - 1)));
    }
    sql += ")";
  }
  if (!request.order_id().empty()) {
    sql += " AND order_id = ?";
    texts.push_back(request.order_id());
  }
  if (!request.device_id().empty()) {
    sql += " AND device_id = ?";
    texts.push_back(request.device_id());
  }
  if (!after.empty()) {
    sql += " AND id < ?";
    texts.push_back(after);
  }
  if (request.has_created_after()) {
    sql += " AND created_at >= ?";
    numbers.push_back(MillisFromTimestamp(request.created_after()));
  }
  if (request.has_created_before()) {
    sql += " AND created_at < ?";
    numbers.push_back(MillisFromTimestamp(request.created_before()));
  }
  sql += " ORDER BY id DESC LIMIT ?";
  numbers.push_back(page_size + 1);

  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(lease.db()));
  posd::v1::ListPaymentsResponse response;
  POSD_ASSIGN_OR_RETURN(const uint64_t head, Head(lease.db()));
  response.set_as_of_sequence(head);
  std::vector<std::string> ids;
  {
    POSD_ASSIGN_OR_RETURN(store::Statement select, lease.db().Prepare(sql));
    int index = 1;
    for (const auto& text : texts) POSD_RETURN_IF_ERROR(select.BindText(index++, text));
    for (const int64_t number : numbers) POSD_RETURN_IF_ERROR(select.BindInt64(index++, number));
    while (true) {
      POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
      if (!row) break;
      ids.emplace_back(select.ColumnText(0));
    }
  }
  const bool more = ids.size() > static_cast<size_t>(page_size);
  if (more) ids.resize(static_cast<size_t>(page_size));
  for (const auto& id : ids) {
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(lease.db(), id));
    if (payment.has_value()) *response.add_payments() = *std::move(payment);
  }
  if (more) response.set_next_page_token(MakeToken(filters, ids.back()));
  return response;
}

absl::StatusOr<posd::v1::ListEventsResponse> Queries::ListEvents(
    const posd::v1::ListEventsRequest& request) {
  posd::v1::ListEventsRequest filters = request;
  filters.clear_page_size();
  filters.clear_page_token();
  POSD_ASSIGN_OR_RETURN(const std::string position, TokenPosition(request.page_token(), filters));
  uint64_t after = request.since_sequence();
  if (!position.empty()) after = std::strtoull(position.c_str(), nullptr, 10);
  const size_t page_size = static_cast<size_t>(PageSize(request.page_size(), 100, 1000));

  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(lease.db()));
  posd::v1::ListEventsResponse response;
  POSD_ASSIGN_OR_RETURN(const uint64_t head, Head(lease.db()));
  POSD_ASSIGN_OR_RETURN(const int64_t oldest,
                        lease.db().QueryInt64("SELECT COALESCE(min(sequence), 0) FROM event_log"));
  response.set_head_sequence(head);
  response.set_oldest_sequence(static_cast<uint64_t>(oldest));
  // Scan in batches until the page is full or the log ends, so a narrow
  // filter still returns a page.
  uint64_t position_reached = after;
  while (static_cast<size_t>(response.events_size()) < page_size && position_reached < head) {
    POSD_ASSIGN_OR_RETURN(auto batch, Events(lease.db(), position_reached, 512));
    if (batch.empty()) break;
    for (auto& event : batch) {
      position_reached = event.sequence();
      if (EventMatches(event, request.filter())) *response.add_events() = std::move(event);
      if (static_cast<size_t>(response.events_size()) == page_size) break;
    }
  }
  if (position_reached < head) {
    response.set_next_page_token(MakeToken(filters, std::to_string(position_reached)));
  }
  return response;
}

absl::StatusOr<hooks::HookRunPage> Queries::ListHookRuns(const hooks::HookRunFilter& filter) {
  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(lease.db()));
  return ListHookRunRows(lease.db(), filter);
}

absl::StatusOr<hooks::HookRun> Queries::GetHookRun(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("hook_run_id is required");
  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto run, LoadHookRun(lease.db(), id));
  if (!run.has_value()) return absl::NotFoundError(StrCat("no hook run ", id));
  return *std::move(run);
}

absl::StatusOr<std::optional<int64_t>> Queries::NextHookRunDueMillis() {
  POSD_LEASE(lease);
  return engine::NextHookRunDueMillis(lease.db());
}

namespace {

constexpr std::string_view kAuditActionPrefix = "AUDIT_ACTION_";

// "refund_payment" -> AUDIT_ACTION_REFUND_PAYMENT; UNSPECIFIED for an action
// the API has no name for.
posd::v1::AuditAction AuditActionProto(std::string_view stored) {
  std::string name(kAuditActionPrefix);
  for (char c : stored) name.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  posd::v1::AuditAction action = posd::v1::AUDIT_ACTION_UNSPECIFIED;
  if (!posd::v1::AuditAction_Parse(name, &action)) return posd::v1::AUDIT_ACTION_UNSPECIFIED;
  return action;
}

// The inverse: AUDIT_ACTION_REFUND_PAYMENT -> "refund_payment".
std::string StoredAuditAction(posd::v1::AuditAction action) {
  std::string name = posd::v1::AuditAction_Name(action);
  name.erase(0, std::min(name.size(), kAuditActionPrefix.size()));
  for (char& c : name) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  return name;
}

// What kind of thing an action acts on (AuditRecord.subject_type).
std::string_view SubjectType(posd::v1::AuditAction action) {
  switch (action) {
    case posd::v1::AUDIT_ACTION_CANCEL_ORDER: return "order";
    case posd::v1::AUDIT_ACTION_CANCEL_PAYMENT:
    case posd::v1::AUDIT_ACTION_REFUND_PAYMENT:
    case posd::v1::AUDIT_ACTION_RESOLVE_PAYMENT: return "payment";
    case posd::v1::AUDIT_ACTION_RESOLVE_REFUND: return "refund";
    case posd::v1::AUDIT_ACTION_CREATE_DEVICE:
    case posd::v1::AUDIT_ACTION_DELETE_DEVICE: return "device";
    case posd::v1::AUDIT_ACTION_RETRY_HOOK_RUN: return "hook_run";
    case posd::v1::AUDIT_ACTION_SET_LOG_LEVEL:
    case posd::v1::AUDIT_ACTION_CHANGE_CONFIG: return "server";
    default: return "";
  }
}

posd::v1::Role RoleProto(std::string_view role) {
  if (role == "ui") return posd::v1::ROLE_UI;
  if (role == "operator") return posd::v1::ROLE_OPERATOR;
  if (role == "fleet") return posd::v1::ROLE_FLEET;
  return posd::v1::ROLE_UNSPECIFIED;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string AuditId(int64_t id) {
  const std::string digits = std::to_string(id);
  return StrCat("aud_", std::string(digits.size() < 20 ? 20 - digits.size() : 0, '0'), digits);
}

}  // namespace

absl::StatusOr<posd::v1::ListAuditRecordsResponse> Queries::ListAuditRecords(
    const posd::v1::ListAuditRecordsRequest& request) {
  posd::v1::ListAuditRecordsRequest filters = request;
  filters.clear_page_size();
  filters.clear_page_token();
  POSD_ASSIGN_OR_RETURN(const std::string position, TokenPosition(request.page_token(), filters));
  int64_t before_id = 0;
  if (!position.empty()) {
    const char* end = position.data() + position.size();
    auto [ptr, ec] = std::from_chars(position.data(), end, before_id);
    if (ec != std::errc() || ptr != end || before_id <= 0) {
      return InvalidPageToken("is malformed");
    }
  }
  if (request.has_occurred_after() && request.has_occurred_before() &&
      MillisFromTimestamp(request.occurred_after()) >=
          MillisFromTimestamp(request.occurred_before())) {
    return absl::InvalidArgumentError("occurred_after must be earlier than occurred_before");
  }
  const int page_size = PageSize(request.page_size(), 50, 500);

  std::string sql =
      "SELECT id, at, actor, role, action, subject, reason, details, request_id, outcome, "
      "error_message FROM audit_log WHERE 1 = 1";
  std::vector<std::string> texts;
  std::vector<int64_t> numbers;
  if (!request.actions().empty()) {
    sql += " AND action IN (";
    for (int i = 0; i < request.actions_size(); ++i) {
      if (request.actions(i) == posd::v1::AUDIT_ACTION_UNSPECIFIED ||
          !posd::v1::AuditAction_IsValid(request.actions(i))) {
        return absl::InvalidArgumentError(
            StrCat("actions[", i, "] is not an audit action"));
      }
      sql += i == 0 ? "?" : ", ?";
      texts.push_back(StoredAuditAction(request.actions(i)));
    }
    sql += ")";
  }
  if (request.outcome() != posd::v1::AUDIT_OUTCOME_UNSPECIFIED) {
    if (!posd::v1::AuditOutcome_IsValid(request.outcome())) {
      return absl::InvalidArgumentError(
          StrCat("outcome ", request.outcome(), " is not an audit outcome"));
    }
    sql += " AND outcome = ?";
    texts.push_back(request.outcome() == posd::v1::AUDIT_OUTCOME_REFUSED ? "refused"
                                                                         : "succeeded");
  }
  if (!request.subject_id().empty()) {
    sql += " AND subject = ?";
    texts.push_back(request.subject_id());
  }
  if (!request.principal().empty()) {
    sql += " AND actor = ?";
    texts.push_back(request.principal());
  }
  if (before_id > 0) {
    sql += " AND id < ?";
    numbers.push_back(before_id);
  }
  if (request.has_occurred_after()) {
    sql += " AND at >= ?";
    numbers.push_back(MillisFromTimestamp(request.occurred_after()));
  }
  if (request.has_occurred_before()) {
    sql += " AND at < ?";
    numbers.push_back(MillisFromTimestamp(request.occurred_before()));
  }
  sql += " ORDER BY id DESC LIMIT ?";
  numbers.push_back(page_size + 1);

  POSD_LEASE(lease);
  POSD_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(lease.db()));
  POSD_ASSIGN_OR_RETURN(store::Statement select, lease.db().Prepare(sql));
  int index = 1;
  for (const auto& text : texts) POSD_RETURN_IF_ERROR(select.BindText(index++, text));
  for (const int64_t number : numbers) POSD_RETURN_IF_ERROR(select.BindInt64(index++, number));
  posd::v1::ListAuditRecordsResponse response;
  int64_t last_id = 0;
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) break;
    if (response.audit_records_size() == page_size) {
      response.set_next_page_token(MakeToken(filters, std::to_string(last_id)));
      break;
    }
    last_id = select.ColumnInt64(0);
    posd::v1::AuditRecord* record = response.add_audit_records();
    // The audit log keeps integer ids; the API shows them in the "aud_"
    // form, zero-padded so that they sort like the records.
    record->set_id(AuditId(last_id));
    *record->mutable_occurred_at() = TimestampFromMillis(select.ColumnInt64(1));
    record->mutable_actor()->set_principal(std::string(select.ColumnText(2)));
    record->mutable_actor()->set_role(RoleProto(select.ColumnText(3)));
    const posd::v1::AuditAction action = AuditActionProto(select.ColumnText(4));
    record->set_action(action);
    record->set_subject_type(std::string(SubjectType(action)));
    if (record->subject_type() != "server") record->set_subject_id(std::string(select.ColumnText(5)));
    record->set_reason(std::string(select.ColumnText(6)));
    record->set_request_id(std::string(select.ColumnText(8)));
    record->set_outcome(select.ColumnText(9) == "refused" ? posd::v1::AUDIT_OUTCOME_REFUSED
                                                         : posd::v1::AUDIT_OUTCOME_SUCCEEDED);
    record->set_error_message(std::string(select.ColumnText(10)));
    record->set_details_json(StrCat("{\"action\":", JsonString(select.ColumnText(4)),
                                    ",\"subject\":", JsonString(select.ColumnText(5)),
                                    ",\"summary\":", JsonString(select.ColumnText(7)), "}"));
  }
  return response;
}

absl::StatusOr<std::vector<posd::v1::Event>> Queries::ReadEvents(uint64_t after, size_t max) {
  POSD_LEASE(lease);
  return Events(lease.db(), after, max);
}

absl::StatusOr<uint64_t> Queries::HeadSequence() {
  POSD_LEASE(lease);
  return Head(lease.db());
}

absl::StatusOr<std::vector<std::string>> Queries::LargestGeneratedIds() {
  POSD_LEASE(lease);
  std::vector<std::string> ids;
  for (const char* sql : {"SELECT COALESCE(max(id), '') FROM orders",
                          "SELECT COALESCE(max(id), '') FROM payments",
                          "SELECT COALESCE(max(id), '') FROM refunds"}) {
    POSD_ASSIGN_OR_RETURN(std::string id, lease.db().QueryText(sql));
    if (!id.empty()) ids.push_back(std::move(id));
  }
  return ids;
}

}  // namespace posd::engine
