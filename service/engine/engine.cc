#include "service/engine/engine.h"

#include <future>
#include <map>
#include <set>
#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "service/common/error_info.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/core/card_data.h"
#include "service/core/order_payments.h"
#include "service/core/refund_rules.h"
#include "service/engine/checked_result.h"
#include "service/engine/domain_conversion.h"
#include "service/engine/hook_run_rows.h"
#include "service/hooks/hook_subject.h"
#include "service/hooks/hook_subject_codec.h"
#include "service/engine/resource_rows.h"
#include "service/store/statement.h"
#include "service/store/transaction.h"
#include "spdlog/spdlog.h"

namespace posd::engine {

// One command's view of the group transaction.
struct Engine::Tx {
  store::Database& db;
  int64_t now_ms;
  std::string request_id;                           // of the API call, for its events
  std::vector<posd::v1::Event> events;              // appended to event_log, in order
  std::vector<std::function<void()>> after_commit;  // terminal requests, live events
  TerminalReservations::Journal reservations;       // undone if the command rolls back
};

namespace {

using posd::v1::Event;
using posd::v1::Order;
using posd::v1::Payment;
using posd::v1::Refund;

constexpr size_t kMaxNote = 1024;
constexpr std::chrono::milliseconds kFirstRetryPause{100};
constexpr std::chrono::milliseconds kLongestRetryPause{5000};

// Bytes that are equal exactly when the requests are equal (map order and
// unknown fields cannot make a retry look different).
std::string CanonicalBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&out);
  }
  return bytes;
}

bool IsOperator(const Actor& actor) { return actor.role == "operator" || actor.role == "fleet"; }

absl::Status RequireOperator(const Actor& actor, std::string_view action) {
  if (IsOperator(actor)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      StrCat("only an operator may ", action, "; the caller has the role ", actor.role));
}

// core reports an amount above what is due or refundable as OUT_OF_RANGE;
// the API promises FAILED_PRECONDITION (AMOUNT_TOO_LARGE) for it.
absl::Status AmountRule(absl::Status status, std::string_view subject_type,
                        std::string_view subject_id) {
  if (status.code() == absl::StatusCode::kOutOfRange) {
    return WithErrorDetails(absl::FailedPreconditionError(status.message()),
                            ErrorDetails{.reason = ErrorReason::kAmountTooLarge,
                                         .subject_type = std::string(subject_type),
                                         .subject_id = std::string(subject_id),
                                         .metadata = {{"field", "amount"}}});
  }
  return status;
}

posd::v1::TerminalStage StageProto(TerminalStage stage) {
  switch (stage) {
    case TerminalStage::kWaitingForCard: return posd::v1::TERMINAL_STAGE_WAITING_FOR_CARD;
    case TerminalStage::kReadingCard: return posd::v1::TERMINAL_STAGE_READING_CARD;
    case TerminalStage::kPinEntry: return posd::v1::TERMINAL_STAGE_PIN_ENTRY;
    case TerminalStage::kProcessing: return posd::v1::TERMINAL_STAGE_PROCESSING;
    case TerminalStage::kApprovedShown: return posd::v1::TERMINAL_STAGE_APPROVED_SHOWN;
    case TerminalStage::kDeclinedShown: return posd::v1::TERMINAL_STAGE_DECLINED_SHOWN;
    case TerminalStage::kUnspecified: break;
  }
  return posd::v1::TERMINAL_STAGE_UNSPECIFIED;
}

bool IsRefundId(std::string_view id) { return id.rfind("ref_", 0) == 0; }

bool RefundUnfinished(posd::v1::RefundStatus status) {
  return status == posd::v1::REFUND_STATUS_CREATED ||
         status == posd::v1::REFUND_STATUS_DISPATCHED ||
         status == posd::v1::REFUND_STATUS_PROCESSING || status == posd::v1::REFUND_STATUS_IN_DOUBT;
}

std::string AsciiUpper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return upper;
}

// For each coupon code on `order`: how many other orders that are not
// CANCELED carry a discount with that code (hooks::OrderDraft::CouponUses).
// Read inside the group transaction, so it counts the orders of commands
// committed with this one too. Codes compare without regard to ASCII case, and
// each count is given under the code as entered and in upper case, which is
// how coupon plugins name their codes.
absl::StatusOr<std::map<std::string, int64_t, std::less<>>> CouponUses(store::Database& db,
                                                                       const Order& order) {
  std::map<std::string, int64_t, std::less<>> uses;
  if (order.coupon_codes().empty()) return uses;
  POSD_ASSIGN_OR_RETURN(
      store::Statement count,
      db.Prepare("SELECT count(DISTINCT o.id) FROM order_discounts d JOIN orders o "
                 "ON o.id = d.order_id WHERE upper(d.coupon_code) = ? AND o.status <> "
                 "'CANCELED' AND o.id <> ?"));
  for (const std::string& code : order.coupon_codes()) {
    const std::string upper = AsciiUpper(code);
    count.Reset();
    POSD_RETURN_IF_ERROR(count.BindText(1, upper));
    POSD_RETURN_IF_ERROR(count.BindText(2, order.id()));
    POSD_ASSIGN_OR_RETURN(const bool row, count.Step());
    const int64_t n = row ? count.ColumnInt64(0) : 0;
    uses[code] = n;
    uses[upper] = n;
  }
  return uses;
}

constexpr int kMaxPaymentParameters = 16;
constexpr size_t kMaxParameterKey = 64;
constexpr size_t kMaxParameterValue = 256;

bool IsParameterKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// CreatePaymentRequest.parameters as the beforePayment hooks get them, or
// INVALID_ARGUMENT naming the first entry out of bounds (payments.proto).
// Bounded because they are copied into every hook's draft on the writer
// thread, and their keys are printed in the plugins' error messages.
absl::StatusOr<std::map<std::string, std::string, std::less<>>> PaymentParameters(
    const google::protobuf::Map<std::string, std::string>& parameters) {
  if (parameters.size() > kMaxPaymentParameters) {
    return absl::InvalidArgumentError(StrCat("parameters has ", parameters.size(),
                                             " entries; at most ", kMaxPaymentParameters,
                                             " are allowed"));
  }
  std::map<std::string, std::string, std::less<>> checked(parameters.begin(), parameters.end());
  for (const auto& [key, value] : checked) {
    if (key.empty() || key.size() > kMaxParameterKey) {
      return absl::InvalidArgumentError(
          StrCat("parameters: a key must have 1 to ", kMaxParameterKey, " characters"));
    }
    for (const char c : key) {
      if (!IsParameterKeyChar(c)) {
        return absl::InvalidArgumentError(
            StrCat("parameters: key \"", key,
                   "\" may only contain ASCII letters, digits, '.', '_' and '-'"));
      }
    }
    if (value.size() > kMaxParameterValue) {
      return absl::InvalidArgumentError(StrCat("parameters[\"", key, "\"] is longer than ",
                                               kMaxParameterValue, " bytes"));
    }
  }
  return checked;
}

absl::StatusOr<core::PaymentState> StateOf(const Payment& payment) {
  return PaymentStateFromProto(payment.status());
}

}  // namespace

// ---------------------------------------------------------------------------
// Life cycle and the writer.

Engine::Engine(const EngineOptions& options)
    : store_(*options.store),
      devices_(*options.devices),
      hooks_(options.hooks),
      clock_(options.clock != nullptr ? *options.clock : RealClock::Get()),
      max_group_size_(std::max<size_t>(1, options.max_group_size)),
      hook_max_attempts_(options.hook_max_attempts),
      queries_(std::make_unique<Queries>(*options.store)) {
  core::RandomSource* random = options.random;
  if (random == nullptr) {
    owned_random_ = std::make_unique<core::SystemRandomSource>();
    random = owned_random_.get();
  }
  ids_ = std::make_unique<core::IdGenerator>(clock_, *random);
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Start(const EngineOptions& options) {
  if (options.store == nullptr || options.devices == nullptr) {
    return absl::InvalidArgumentError("the engine needs a store and a device port");
  }
  std::unique_ptr<Engine> engine(new Engine(options));
  POSD_ASSIGN_OR_RETURN(const uint64_t head, engine->queries_->HeadSequence());
  engine->broadcaster_.SetHead(head);
  // New ids sort after every stored one even if the clock stepped back.
  POSD_ASSIGN_OR_RETURN(const std::vector<std::string> largest,
                        engine->queries_->LargestGeneratedIds());
  for (const std::string& id : largest) POSD_RETURN_IF_ERROR(engine->ids_->ContinueAfter(id));
  engine->writer_ = std::thread([raw = engine.get()] { raw->WriterLoop(); });
  // Attach before recovery, so that answers to its status queries arrive.
  engine->devices_.SetEvents(engine.get());
  engine->attached_ = true;
  std::promise<absl::Status> recovered;
  engine->Enqueue(Command{
      "recover", [raw = engine.get()](Tx& tx) { return raw->DoRecover(tx); },
      [&recovered](const absl::Status& status) { recovered.set_value(status); }});
  if (absl::Status status = recovered.get_future().get(); !status.ok()) {
    engine->Stop();
    return absl::Status(status.code(), StrCat("recovery at start failed: ", ToStd(status.message())));
  }
  return engine;
}

Engine::~Engine() { Stop(); }

void Engine::Stop() {
  if (attached_.exchange(false)) devices_.SetEvents(nullptr);
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  broadcaster_.Shutdown();
}

EngineStats Engine::stats() const {
  const std::lock_guard lock(mutex_);
  EngineStats stats = stats_;
  stats.queued = queue_.size();
  return stats;
}

void Engine::Enqueue(Command command) {
  {
    const std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(command));
      wake_.notify_one();
      return;
    }
  }
  if (command.done) command.done(absl::UnavailableError("posd is shutting down"));
}

void Engine::EnqueueFromWriter(Command command) {
  const std::lock_guard lock(mutex_);
  queue_.push_back(std::move(command));
}

void Engine::AppendRefusal(AuditEntry refused, std::function<void(const absl::Status&)> then,
                           bool from_writer) {
  Command command{
      .name = "audit refusal",
      .run = [refused](Tx& tx) { return AppendAudit(tx.db, refused, tx.now_ms); },
      .done =
          [refused, then = std::move(then)](const absl::Status& written) {
            if (!written.ok()) {
              spdlog::error("engine: the audit record of a refused {} of {} by {} (request {}: "
                            "{}) was not written: {}",
                            refused.action, refused.subject, refused.actor, refused.request_id,
                            refused.error_message, ToStd(written.message()));
            }
            if (then) then(written);
          },
      .retry_until_committed = false,
      .audit_refusal = std::nullopt};
  if (from_writer) {
    EnqueueFromWriter(std::move(command));
  } else {
    Enqueue(std::move(command));
  }
}

void Engine::RecordRefusal(Refusal refusal, std::function<void(const absl::Status&)> done) {
  if (refusal.error.ok()) {
    if (done) done(absl::InvalidArgumentError("RecordRefusal needs the error of the refusal"));
    return;
  }
  AppendRefusal(RefusedEntry(AuditEntry{.actor = std::move(refusal.actor.principal),
                                        .role = std::move(refusal.actor.role),
                                        .action = std::move(refusal.action),
                                        .subject = std::move(refusal.subject),
                                        .reason = std::move(refusal.reason),
                                        .details = {},
                                        .request_id = std::move(refusal.request_id)},
                             refusal.error),
                std::move(done), /*from_writer=*/false);
}

template <typename T>
void Engine::Submit(std::string name, std::function<absl::StatusOr<T>(Tx&)> run, Callback<T> done,
                    std::optional<AuditEntry> audit_refusal) {
  auto result = std::make_shared<absl::StatusOr<T>>(absl::InternalError("command did not run"));
  Enqueue(Command{
      std::move(name),
      [run = std::move(run), result](Tx& tx) -> absl::Status {
        *result = run(tx);
        return result->status();
      },
      [done = std::move(done), result](const absl::Status& status) {
        if (!done) return;
        if (!status.ok()) {
          done(status);
        } else {
          done(std::move(*result));
        }
      },
      /*retry_until_committed=*/false, std::move(audit_refusal)});
}

void Engine::WriterLoop() {
  while (true) {
    std::vector<Command> group;
    {
      std::unique_lock lock(mutex_);
      while (true) {
        if (!retry_.empty() && std::chrono::steady_clock::now() >= retry_at_) {
          // Before anything newer: they happened first.
          queue_.insert(queue_.begin(), std::make_move_iterator(retry_.begin()),
                        std::make_move_iterator(retry_.end()));
          retry_.clear();
        }
        if (!queue_.empty()) break;
        if (stopping_) {
          if (!retry_.empty()) {
            spdlog::error("engine: stopping with {} terminal reports not yet stored; the "
                          "payments stay open and the next start asks the terminals again",
                          retry_.size());
          }
          return;  // everything queued is done
        }
        if (retry_.empty()) {
          wake_.wait(lock);
        } else {
          wake_.wait_until(lock, retry_at_);
        }
      }
      while (!queue_.empty() && group.size() < max_group_size_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunGroup(group);
  }
}

void Engine::KeepForRetry(std::vector<Command> commands, const absl::Status& why) {
  const std::lock_guard lock(mutex_);
  retry_pause_ = retry_pause_.count() == 0 ? kFirstRetryPause
                                           : std::min(retry_pause_ * 2, kLongestRetryPause);
  retry_at_ = std::chrono::steady_clock::now() + retry_pause_;
  spdlog::error("engine: {} terminal report(s) not stored ({}); trying again in {} ms",
                commands.size(), ToStd(why.message()), retry_pause_.count());
  for (auto& command : commands) retry_.push_back(std::move(command));
}

void Engine::RunGroup(std::vector<Command>& group) {
  store::Database& db = store_.writer();
  std::vector<absl::Status> results(group.size());
  std::vector<std::unique_ptr<Tx>> txs(group.size());
  const int64_t now_ms = ToMillis(clock_.WallNow());

  auto transaction = store::Transaction::Begin(db);
  absl::Status group_error = transaction.status();
  for (size_t i = 0; i < group.size() && group_error.ok(); ++i) {
    if (absl::Status status = db.Execute("SAVEPOINT command"); !status.ok()) {
      group_error = status;
      break;
    }
    txs[i] = std::make_unique<Tx>(Tx{.db = db, .now_ms = now_ms, .request_id = {},
                                     .events = {}, .after_commit = {}, .reservations = {}});
    results[i] = group[i].run(*txs[i]);
    if (!db.in_transaction()) {
      // SQLite rolled the whole transaction back (disk full, I/O error): the
      // commands before this one are gone too.
      group_error = results[i].ok() ? absl::InternalError("the transaction was rolled back")
                                    : results[i];
      break;
    }
    if (!results[i].ok()) {
      (void)db.Execute("ROLLBACK TO command");
      reservations_.Undo(txs[i]->reservations);
      txs[i].reset();
    }
    if (absl::Status status = db.Execute("RELEASE command"); !status.ok()) group_error = status;
  }
  if (group_error.ok()) group_error = transaction->Commit();
  {
    const std::lock_guard lock(mutex_);
    stats_.transactions += 1;
    stats_.commands += group.size();
    stats_.largest_group = std::max<uint64_t>(stats_.largest_group, group.size());
  }
  if (!group_error.ok()) {
    // Nothing of the group was stored, so no terminal was taken or freed.
    for (auto tx = txs.rbegin(); tx != txs.rend(); ++tx) {
      if (*tx != nullptr) reservations_.Undo((*tx)->reservations);
    }
    // The callers of API commands hear why; what terminals reported must
    // not be forgotten.
    std::vector<Command> again;
    for (auto& command : group) {
      if (command.retry_until_committed) {
        again.push_back(std::move(command));
      } else if (command.done) {
        command.done(group_error);
      }
    }
    if (!again.empty()) {
      KeepForRetry(std::move(again), group_error);
    } else {
      spdlog::warn("engine: a transaction of {} command(s) failed: {}", group.size(),
                   ToStd(group_error.message()));
    }
    return;
  }
  {
    const std::lock_guard lock(mutex_);
    retry_pause_ = std::chrono::milliseconds(0);
  }
  std::vector<Event> committed;
  for (auto& tx : txs) {
    if (tx == nullptr) continue;
    for (auto& event : tx->events) committed.push_back(std::move(event));
  }
  broadcaster_.PublishCommitted(std::move(committed));
  // A report that failed on its own for a storage reason (its savepoint was
  // rolled back while the rest committed) is kept as well.
  std::vector<Command> again;
  absl::Status again_why;
  for (size_t i = 0; i < group.size(); ++i) {
    const absl::StatusCode code = results[i].code();
    if (group[i].retry_until_committed && (code == absl::StatusCode::kResourceExhausted ||
                                           code == absl::StatusCode::kUnavailable)) {
      again_why = results[i];
      again.push_back(std::move(group[i]));
      group[i].done = nullptr;
    }
  }
  if (!again.empty()) KeepForRetry(std::move(again), again_why);
  for (auto& tx : txs) {
    if (tx == nullptr) continue;
    for (auto& action : tx->after_commit) action();
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (!group[i].done) continue;
    if (!results[i].ok() && group[i].audit_refusal.has_value()) {
      // Its savepoint was rolled back: the refusal record is all that is
      // stored of it, in a command of its own. The caller hears its own
      // error after that, whatever became of the record.
      AppendRefusal(RefusedEntry(*std::move(group[i].audit_refusal), results[i]),
                    [done = std::move(group[i].done), result = results[i]](const absl::Status&) {
                      done(result);
                    },
                    /*from_writer=*/true);
      continue;
    }
    group[i].done(results[i]);
  }
}

absl::Status Engine::RunWrite(const std::function<absl::Status(store::Database&)>& work) {
  std::promise<absl::Status> finished;
  Enqueue(Command{"write", [&work](Tx& tx) { return work(tx.db); },
                  [&finished](const absl::Status& status) { finished.set_value(status); }});
  return finished.get_future().get();
}

// ---------------------------------------------------------------------------
// Writing resources and events.

absl::Status Engine::AppendCommandAudit(Tx& tx, AuditEntry entry) {
  entry.request_id = tx.request_id;
  return AppendAudit(tx.db, entry, tx.now_ms);
}

absl::StatusOr<uint64_t> Engine::AppendEvent(Tx& tx, Event event, std::string_view subject) {
  // The sequence is read inside the savepoint: a rolled back command gives
  // its numbers back, so the log stays without gaps.
  POSD_ASSIGN_OR_RETURN(
      const int64_t last,
      tx.db.QueryInt64("SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = "
                       "'event_log'), 0), COALESCE((SELECT max(sequence) FROM event_log), 0))"));
  const uint64_t sequence = static_cast<uint64_t>(last) + 1;
  event.set_sequence(sequence);
  event.set_durable(true);
  *event.mutable_occurred_at() = TimestampFromMillis(tx.now_ms);
  event.set_request_id(tx.request_id);
  if (event.has_order()) event.mutable_order()->set_last_event_sequence(sequence);
  if (event.has_payment()) event.mutable_payment()->set_last_event_sequence(sequence);
  if (event.has_refund()) event.mutable_refund()->set_last_event_sequence(sequence);
  const std::string kind = posd::v1::EventKind_Name(event.kind());
  POSD_ASSIGN_OR_RETURN(store::Statement insert,
                        tx.db.Prepare("INSERT INTO event_log (sequence, occurred_at, kind, "
                                      "subject_id, payload) VALUES (?, ?, ?, ?, ?)"));
  POSD_RETURN_IF_ERROR(insert.BindInt64(1, static_cast<int64_t>(sequence)));
  POSD_RETURN_IF_ERROR(insert.BindInt64(2, tx.now_ms));
  POSD_RETURN_IF_ERROR(insert.BindText(3, kind.substr(std::size("EVENT_KIND_") - 1)));
  POSD_RETURN_IF_ERROR(insert.BindText(4, subject));
  POSD_RETURN_IF_ERROR(insert.BindBlob(5, event.SerializeAsString()));
  POSD_RETURN_IF_ERROR(insert.Run());
  tx.events.push_back(std::move(event));
  return sequence;
}

absl::Status Engine::SaveOrder(Tx& tx, Order order) {
  *order.mutable_updated_at() = TimestampFromMillis(tx.now_ms);
  POSD_RETURN_IF_ERROR(UpdateOrder(tx.db, order));
  POSD_ASSIGN_OR_RETURN(auto snapshot, LoadOrder(tx.db, order.id()));
  if (!snapshot.has_value()) return absl::InternalError(StrCat("order ", order.id(), " vanished"));
  Event event;
  event.set_kind(posd::v1::EVENT_KIND_ORDER_CHANGED);
  *event.mutable_order() = *std::move(snapshot);
  POSD_ASSIGN_OR_RETURN(const uint64_t sequence, AppendEvent(tx, std::move(event), order.id()));
  order.set_last_event_sequence(sequence);
  return UpdateOrder(tx.db, order);
}

absl::Status Engine::SavePayment(Tx& tx, Payment& payment) {
  // Only a payment the terminal may be working on holds it; the outcome (or
  // the doubt) frees it in the transaction that records it.
  if (payment.status() != posd::v1::PAYMENT_STATUS_DISPATCHED &&
      payment.status() != posd::v1::PAYMENT_STATUS_AUTHORIZING) {
    reservations_.Release(payment.device_id(), payment.id(), tx.reservations);
  }
  *payment.mutable_updated_at() = TimestampFromMillis(tx.now_ms);
  POSD_RETURN_IF_ERROR(WritePayment(tx.db, payment));
  POSD_ASSIGN_OR_RETURN(auto snapshot, LoadPayment(tx.db, payment.id()));
  if (!snapshot.has_value()) return absl::InternalError("payment vanished");
  Event event;
  event.set_kind(posd::v1::EVENT_KIND_PAYMENT_CHANGED);
  *event.mutable_payment() = *snapshot;
  POSD_ASSIGN_OR_RETURN(const uint64_t sequence, AppendEvent(tx, std::move(event), payment.id()));
  payment = *std::move(snapshot);
  payment.set_last_event_sequence(sequence);
  return WritePayment(tx.db, payment);
}

absl::Status Engine::SaveRefund(Tx& tx, Refund& refund) {
  if (refund.status() != posd::v1::REFUND_STATUS_DISPATCHED &&
      refund.status() != posd::v1::REFUND_STATUS_PROCESSING) {
    reservations_.Release(refund.device_id(), refund.id(), tx.reservations);
  }
  *refund.mutable_updated_at() = TimestampFromMillis(tx.now_ms);
  POSD_RETURN_IF_ERROR(WriteRefund(tx.db, refund));
  POSD_ASSIGN_OR_RETURN(auto snapshot, LoadRefund(tx.db, refund.id()));
  if (!snapshot.has_value()) return absl::InternalError("refund vanished");
  Event event;
  event.set_kind(posd::v1::EVENT_KIND_REFUND_CHANGED);
  *event.mutable_refund() = *snapshot;
  POSD_ASSIGN_OR_RETURN(const uint64_t sequence, AppendEvent(tx, std::move(event), refund.id()));
  refund = *std::move(snapshot);
  refund.set_last_event_sequence(sequence);
  return WriteRefund(tx.db, refund);
}

// The subject of an after-hook run as the transition leaves it, encoded
// (hook_subject.h lists what each point carries). `trigger` is set to the
// sequence of the subject's latest event: the transition's.
absl::StatusOr<std::string> Engine::HookSnapshot(Tx& tx, hooks::HookPoint point,
                                                 std::string_view subject_id, uint64_t& trigger) {
  hooks::HookSubject subject;
  auto add_order = [&](std::string_view order_id) -> absl::Status {
    if (order_id.empty()) return absl::OkStatus();
    POSD_ASSIGN_OR_RETURN(auto order, LoadOrder(tx.db, order_id));
    if (!order.has_value()) return absl::NotFoundError(StrCat("no order ", order_id));
    trigger = std::max<uint64_t>(trigger, order->last_event_sequence());
    POSD_ASSIGN_OR_RETURN(subject.order, OrderFromProto(*order));
    return absl::OkStatus();
  };
  auto add_payment = [&](std::string_view payment_id) -> absl::StatusOr<std::string> {
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, payment_id));
    if (!payment.has_value()) return absl::NotFoundError(StrCat("no payment ", payment_id));
    trigger = std::max<uint64_t>(trigger, payment->last_event_sequence());
    POSD_ASSIGN_OR_RETURN(subject.payment, PaymentFromProto(*payment));
    return payment->order_id();
  };
  switch (point) {
    case hooks::HookPoint::kAfterOrder:
      POSD_RETURN_IF_ERROR(add_order(subject_id));
      break;
    case hooks::HookPoint::kAfterPayment:
    case hooks::HookPoint::kOnPaymentFailed: {
      POSD_ASSIGN_OR_RETURN(const std::string order_id, add_payment(subject_id));
      POSD_RETURN_IF_ERROR(add_order(order_id));
      break;
    }
    case hooks::HookPoint::kAfterRefund: {
      POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, subject_id));
      if (!refund.has_value()) return absl::NotFoundError(StrCat("no refund ", subject_id));
      trigger = std::max<uint64_t>(trigger, refund->last_event_sequence());
      POSD_ASSIGN_OR_RETURN(subject.refund, RefundFromProto(*refund));
      POSD_ASSIGN_OR_RETURN(const std::string order_id, add_payment(refund->payment_id()));
      POSD_RETURN_IF_ERROR(add_order(order_id));
      break;
    }
    case hooks::HookPoint::kBeforeOrder:
    case hooks::HookPoint::kBeforePayment:
    case hooks::HookPoint::kBeforeRefund:
      return absl::InvalidArgumentError(StrCat(hooks::ToString(point), " has no runs"));
  }
  return hooks::EncodeHookSubject(subject);
}

absl::Status Engine::AddAfterHooks(Tx& tx, hooks::HookPoint point, std::string_view subject_id) {
  if (hooks_ == nullptr) return absl::OkStatus();
  const std::vector<hooks::PlannedHookRun> planned = hooks_->PlanAfterRuns(point, subject_id);
  if (planned.empty()) return absl::OkStatus();
  uint64_t trigger = 0;
  absl::StatusOr<std::string> snapshot = HookSnapshot(tx, point, subject_id, trigger);
  const auto now = FromMillis(tx.now_ms);
  for (const hooks::PlannedHookRun& plan : planned) {
    hooks::HookRun run{.id = ids_->NextText(core::IdKind::kHookRun),
                       .hook_point = plan.hook_point,
                       .plugin = plan.plugin,
                       .subject_id = plan.subject_id,
                       .idempotency_key = plan.idempotency_key,
                       .state = hooks::HookRunState::kPending,
                       .next_attempt_at = now,
                       .trigger_sequence = trigger,
                       .created_at = now,
                       .updated_at = now};
    if (snapshot.ok()) {
      run.subject_snapshot = *snapshot;
    } else {
      // An after-hook must never block the transition it follows: a subject
      // that cannot be snapshotted makes the run FAILED and visible (posctl
      // hooks list), not the payment roll back.
      run.state = hooks::HookRunState::kFailed;
      run.last_error = StrCat("cannot snapshot the subject: ", snapshot.status().ToString());
      run.completed_at = now;
    }
    POSD_ASSIGN_OR_RETURN(const bool inserted, InsertHookRun(tx.db, run));
    if (!inserted) continue;  // the same transition seen twice: the run exists
    Event event;
    event.set_kind(posd::v1::EVENT_KIND_HOOK_RUN_CHANGED);
    *event.mutable_hook_run() = HookRunProto(run, hook_max_attempts_);
    POSD_RETURN_IF_ERROR(AppendEvent(tx, std::move(event), subject_id).status());
  }
  NotifyHookRunsAfterCommit(tx);
  return absl::OkStatus();
}

// Moves `payment` by `event`, saves it, and carries an approval over to its
// order (PARTIALLY_PAID / PAID) and the outcome to the after-hooks.
absl::StatusOr<Payment> Engine::MovePayment(Tx& tx, Payment payment, core::PaymentEvent event) {
  POSD_ASSIGN_OR_RETURN(const core::PaymentState from, StateOf(payment));
  POSD_ASSIGN_OR_RETURN(const core::PaymentState to, core::NextPaymentState(from, event));
  payment.set_status(PaymentStatusProto(to));
  if (core::IsTerminal(to) && !core::IsTerminal(from)) {
    *payment.mutable_completed_at() = TimestampFromMillis(tx.now_ms);
    payment.clear_terminal_stage();
    payment.clear_terminal_message();
  }
  if (to == core::PaymentState::kApproved && !payment.has_charged_amount()) {
    POSD_ASSIGN_OR_RETURN(const core::Payment charged, PaymentFromProto(payment));
    POSD_ASSIGN_OR_RETURN(const core::Money total, charged.ChargeTotal());
    *payment.mutable_charged_amount() = MoneyProto(total);
  }
  POSD_RETURN_IF_ERROR(SavePayment(tx, payment));
  if (!payment.order_id().empty()) {
    POSD_ASSIGN_OR_RETURN(auto order, LoadOrder(tx.db, payment.order_id()));
    if (!order.has_value()) return absl::DataLossError("a payment names a missing order");
    if (to == core::PaymentState::kApproved && from != core::PaymentState::kApproved) {
      POSD_ASSIGN_OR_RETURN(core::Order core_order, OrderFromProto(*order));
      POSD_ASSIGN_OR_RETURN(auto payments, LoadPaymentsOfOrder(tx.db, order->id()));
      POSD_ASSIGN_OR_RETURN(auto core_payments, PaymentsFromProto(payments));
      POSD_ASSIGN_OR_RETURN(const core::OrderEvent order_event,
                            core::OrderEventForApprovedPayment(core_order, core_payments));
      POSD_ASSIGN_OR_RETURN(const core::OrderState next,
                            core::NextOrderState(core_order.state, order_event));
      order->set_status(OrderStatusProto(next));
      if (next == core::OrderState::kPaid) *order->mutable_closed_at() = TimestampFromMillis(tx.now_ms);
    }
    // The order embeds its payments' summaries: it changed either way.
    POSD_RETURN_IF_ERROR(SaveOrder(tx, *std::move(order)));
  }
  if (core::IsTerminal(to) && !core::IsTerminal(from)) {
    POSD_RETURN_IF_ERROR(AfterPaymentOutcome(tx, payment));
  }
  return payment;
}

absl::Status Engine::AfterPaymentOutcome(Tx& tx, const Payment& payment) {
  POSD_ASSIGN_OR_RETURN(const core::PaymentState state, StateOf(payment));
  return AddAfterHooks(tx, core::WasApproved(state) ? hooks::HookPoint::kAfterPayment
                                                    : hooks::HookPoint::kOnPaymentFailed,
                       payment.id());
}

// Ends a refund. A SUCCEEDED refund counts on its payment (PARTIALLY_REFUNDED
// / REFUNDED) and, once everything paid went back, on its order (REFUNDED).
absl::Status Engine::SettleRefund(Tx& tx, Refund refund, posd::v1::RefundStatus status) {
  refund.set_status(status);
  *refund.mutable_completed_at() = TimestampFromMillis(tx.now_ms);
  POSD_RETURN_IF_ERROR(SaveRefund(tx, refund));
  POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, refund.payment_id()));
  if (!payment.has_value()) return absl::DataLossError("a refund names a missing payment");
  if (status != posd::v1::REFUND_STATUS_SUCCEEDED) {
    return SavePayment(tx, *payment);  // it embeds the refund's new status
  }
  POSD_ASSIGN_OR_RETURN(core::Payment core_payment, PaymentFromProto(*payment));
  POSD_ASSIGN_OR_RETURN(core::Money amount, MoneyFromProto(refund.amount(), "refund amount"));
  POSD_ASSIGN_OR_RETURN(core::CompletedRefund completed,
                        core::ApplyCompletedRefund(core_payment, amount));
  POSD_ASSIGN_OR_RETURN(const core::PaymentState next,
                        core::NextPaymentState(core_payment.state, completed.event));
  payment->set_status(PaymentStatusProto(next));
  *payment->mutable_refunded_amount() = MoneyProto(completed.refunded_amount);
  POSD_RETURN_IF_ERROR(SavePayment(tx, *payment));
  if (!payment->order_id().empty()) {
    POSD_ASSIGN_OR_RETURN(auto order, LoadOrder(tx.db, payment->order_id()));
    if (!order.has_value()) return absl::DataLossError("a payment names a missing order");
    POSD_ASSIGN_OR_RETURN(core::Order core_order, OrderFromProto(*order));
    POSD_ASSIGN_OR_RETURN(auto payments, LoadPaymentsOfOrder(tx.db, order->id()));
    POSD_ASSIGN_OR_RETURN(auto core_payments, PaymentsFromProto(payments));
    POSD_ASSIGN_OR_RETURN(const core::OrderEvent order_event,
                          core::OrderEventForCompletedRefund(core_order, core_payments));
    POSD_ASSIGN_OR_RETURN(const core::OrderState order_next,
                          core::NextOrderState(core_order.state, order_event));
    order->set_status(OrderStatusProto(order_next));
    if (core::IsFinal(order_next)) *order->mutable_closed_at() = TimestampFromMillis(tx.now_ms);
    POSD_RETURN_IF_ERROR(SaveOrder(tx, *std::move(order)));
  }
  return AddAfterHooks(tx, hooks::HookPoint::kAfterRefund, refund.id());
}

void Engine::SendSale(Tx& tx, const Payment& payment) {
  SaleRequest sale{.device_id = payment.device_id(),
                   .transaction_id = payment.id(),
                   .amount_minor = payment.amount().amount_minor(),
                   .tip_minor = payment.tip().amount_minor(),
                   .currency = payment.amount().currency_code()};
  tx.after_commit.push_back([this, sale = std::move(sale)] {
    if (absl::Status sent = devices_.StartSale(sale); !sent.ok()) {
      const std::string reason = StrCat("could not send the sale to terminal ", sale.device_id,
                                        ": ", ToStd(sent.message()));
      EnqueueReport("send failed", [this, id = sale.transaction_id, reason](Tx& inner) {
        return DoSendFailed(inner, id, reason);
      });
    }
  });
}

// ---------------------------------------------------------------------------
// API commands.

namespace {

// What an audited command records if it is refused (RefusedEntry fills in
// the outcome).
AuditEntry Attempt(const Actor& actor, std::string action, std::string subject,
                   std::string reason, std::string request_id) {
  return AuditEntry{.actor = actor.principal,
                    .role = actor.role,
                    .action = std::move(action),
                    .subject = std::move(subject),
                    .reason = std::move(reason),
                    .details = {},
                    .request_id = std::move(request_id)};
}

// Runs `body` once per request_id: a replay loads the first result's
// resource (in its current state) with `load`.
template <typename T, typename Body, typename Load>
absl::StatusOr<T> Idempotent(store::Database& db, int64_t now_ms, std::string_view request_id,
                             std::string_view method, const google::protobuf::Message& request,
                             Body body, Load load) {
  POSD_RETURN_IF_ERROR(ValidateRequestId(request_id));
  const std::string hash = RequestHash(method, CanonicalBytes(request));
  POSD_ASSIGN_OR_RETURN(std::optional<std::string> earlier,
                        LookupRequest(db, request_id, method, hash));
  if (earlier.has_value()) return load(*earlier);
  POSD_ASSIGN_OR_RETURN(T result, body());
  POSD_RETURN_IF_ERROR(RecordRequest(db, request_id, method, hash, result.id(), now_ms));
  return result;
}

}  // namespace

void Engine::CreateOrder(const Actor& actor, const posd::v1::CreateOrderRequest& request,
                         Callback<Order> done) {
  Submit<Order>("CreateOrder", [this, actor, request](Tx& tx) {
    return DoCreateOrder(tx, actor, request);
  }, std::move(done));
}

void Engine::PlaceOrder(const Actor&, const posd::v1::PlaceOrderRequest& request,
                        Callback<Order> done) {
  Submit<Order>("PlaceOrder", [this, request](Tx& tx) { return DoPlaceOrder(tx, request); },
                std::move(done));
}

void Engine::CancelOrder(const Actor& actor, const posd::v1::CancelOrderRequest& request,
                         Callback<Order> done) {
  Submit<Order>("CancelOrder", [this, actor, request](Tx& tx) {
    return DoCancelOrder(tx, actor, request);
  }, std::move(done), Attempt(actor, "cancel_order", request.order_id(), request.reason(),
                              request.request_id()));
}

void Engine::CreatePayment(const Actor&, const posd::v1::CreatePaymentRequest& request,
                           Callback<Payment> done) {
  Submit<Payment>("CreatePayment", [this, request](Tx& tx) { return DoCreatePayment(tx, request); },
                  std::move(done));
}

void Engine::CancelPayment(const Actor& actor, const posd::v1::CancelPaymentRequest& request,
                           Callback<Payment> done) {
  Submit<Payment>("CancelPayment", [this, actor, request](Tx& tx) {
    return DoCancelPayment(tx, actor, request);
  }, std::move(done), Attempt(actor, "cancel_payment", request.payment_id(), request.reason(),
                              request.request_id()));
}

void Engine::RefundPayment(const Actor& actor, const posd::v1::RefundPaymentRequest& request,
                           Callback<Refund> done) {
  Submit<Refund>("RefundPayment", [this, actor, request](Tx& tx) {
    return DoRefundPayment(tx, actor, request);
  }, std::move(done), Attempt(actor, "refund_payment", request.payment_id(), request.reason(),
                              request.request_id()));
}

void Engine::ResolvePayment(const Actor& actor, const posd::v1::ResolvePaymentRequest& request,
                            Callback<Payment> done) {
  Submit<Payment>("ResolvePayment", [this, actor, request](Tx& tx) {
    return DoResolvePayment(tx, actor, request);
  }, std::move(done), Attempt(actor, "resolve_payment", request.payment_id(), request.reason(),
                              request.request_id()));
}

void Engine::ResolveRefund(const Actor& actor, const posd::v1::ResolveRefundRequest& request,
                           Callback<Refund> done) {
  Submit<Refund>("ResolveRefund", [this, actor, request](Tx& tx) {
    return DoResolveRefund(tx, actor, request);
  }, std::move(done), Attempt(actor, "resolve_refund", request.refund_id(), request.reason(),
                              request.request_id()));
}

absl::StatusOr<Order> Engine::DoCreateOrder(Tx& tx, const Actor&,
                                            const posd::v1::CreateOrderRequest& request) {
  tx.request_id = request.request_id();
  auto load = [&](const std::string& id) -> absl::StatusOr<Order> {
    POSD_ASSIGN_OR_RETURN(auto order, LoadOrder(tx.db, id));
    if (!order.has_value()) return absl::NotFoundError(StrCat("no order ", id));
    return *std::move(order);
  };
  return Idempotent<Order>(tx.db, tx.now_ms, request.request_id(),
                           "posd.v1.OrderService.CreateOrder", request,
                           [&]() -> absl::StatusOr<Order> {
    const Order& input = request.order();
    auto currency = core::CurrencyCode::Parse(input.currency_code());
    if (!currency.ok()) {
      return absl::InvalidArgumentError(
          StrCat("order.currency_code: ", ToStd(currency.status().message())));
    }
    if (input.note().size() > kMaxNote) {
      return absl::InvalidArgumentError("order.note is longer than 1024 characters");
    }
    if (input.labels_size() > 32) {
      return absl::InvalidArgumentError("order.labels has more than 32 entries");
    }
    Order order;
    order.set_id(ids_->NextText(core::IdKind::kOrder));
    order.set_status(posd::v1::ORDER_STATUS_OPEN);
    order.set_currency_code(input.currency_code());
    order.set_external_reference(input.external_reference());
    order.set_note(input.note());
    *order.mutable_coupon_codes() = input.coupon_codes();
    *order.mutable_labels() = input.labels();
    *order.mutable_created_at() = TimestampFromMillis(tx.now_ms);
    *order.mutable_updated_at() = TimestampFromMillis(tx.now_ms);
    std::set<std::string> line_ids;
    for (int i = 0; i < input.lines_size(); ++i) {
      const auto& in = input.lines(i);
      const std::string where = StrCat("order.lines[", i, "]");
      if (in.sku().empty()) return absl::InvalidArgumentError(StrCat(where, ".sku is required"));
      if (in.quantity() < 1) {
        return absl::InvalidArgumentError(StrCat(where, ".quantity must be at least 1"));
      }
      if (!in.unit_price().currency_code().empty() &&
          in.unit_price().currency_code() != input.currency_code()) {
        return absl::InvalidArgumentError(StrCat(where, ".unit_price is in ",
                                                 in.unit_price().currency_code(),
                                                 ", the order in ", input.currency_code()));
      }
      if (in.unit_price().amount_minor() < 0) {
        return absl::InvalidArgumentError(StrCat(where, ".unit_price must not be negative"));
      }
      auto* line = order.add_lines();
      line->set_line_id(in.line_id().empty() ? std::to_string(i + 1) : in.line_id());
      if (!line_ids.insert(line->line_id()).second) {
        return absl::InvalidArgumentError(StrCat(where, ".line_id '", line->line_id(),
                                                 "' is used twice"));
      }
      line->set_sku(in.sku());
      line->set_name(in.name());
      line->set_quantity(in.quantity());
      *line->mutable_unit_price() = MoneyProto(in.unit_price().amount_minor(), input.currency_code());
    }
    if (hooks_ != nullptr) {
      POSD_ASSIGN_OR_RETURN(auto uses, CouponUses(tx.db, order));
      POSD_RETURN_IF_ERROR(hooks_->BeforeOrder(
          BeforeOrderContext{.change = hooks::OrderDraft::Change::kCreate,
                             .coupon_uses = std::move(uses),
                             .now = FromMillis(tx.now_ms)},
          order));
    }
    POSD_ASSIGN_OR_RETURN(core::Order core_order, OrderFromProto(order));
    POSD_RETURN_IF_ERROR(core_order.Validate());
    POSD_RETURN_IF_ERROR(InsertOrder(tx.db, order));
    POSD_RETURN_IF_ERROR(SaveOrder(tx, order));
    return load(order.id());
  }, load);
}

absl::StatusOr<Order> Engine::DoPlaceOrder(Tx& tx, const posd::v1::PlaceOrderRequest& request) {
  tx.request_id = request.request_id();
  auto load = [&](const std::string& id) -> absl::StatusOr<Order> {
    POSD_ASSIGN_OR_RETURN(auto order, LoadOrder(tx.db, id));
    if (!order.has_value()) return absl::NotFoundError(StrCat("no order ", id));
    return *std::move(order);
  };
  return Idempotent<Order>(tx.db, tx.now_ms, request.request_id(),
                           "posd.v1.OrderService.PlaceOrder", request,
                           [&]() -> absl::StatusOr<Order> {
    if (request.order_id().empty()) return absl::InvalidArgumentError("order_id is required");
    POSD_ASSIGN_OR_RETURN(Order order, load(request.order_id()));
    if (order.lines().empty()) {
      return absl::FailedPreconditionError(
          StrCat("order ", order.id(), " has no lines; add lines before placing it"));
    }
    POSD_ASSIGN_OR_RETURN(const core::OrderState state, OrderStateFromProto(order.status()));
    POSD_ASSIGN_OR_RETURN(const core::OrderState next,
                          core::NextOrderState(state, core::OrderEvent::kPlace));
    if (hooks_ != nullptr) {
      POSD_ASSIGN_OR_RETURN(auto uses, CouponUses(tx.db, order));
      POSD_RETURN_IF_ERROR(hooks_->BeforeOrder(
          BeforeOrderContext{.change = hooks::OrderDraft::Change::kPlace,
                             .coupon_uses = std::move(uses),
                             .now = FromMillis(tx.now_ms)},
          order));
    }
    POSD_ASSIGN_OR_RETURN(core::Order core_order, OrderFromProto(order));
    POSD_RETURN_IF_ERROR(core_order.Validate());
    order.set_status(OrderStatusProto(next));
    *order.mutable_placed_at() = TimestampFromMillis(tx.now_ms);
    POSD_RETURN_IF_ERROR(SaveOrder(tx, order));
    POSD_RETURN_IF_ERROR(AddAfterHooks(tx, hooks::HookPoint::kAfterOrder, order.id()));
    return load(order.id());
  }, load);
}

absl::StatusOr<Order> Engine::DoCancelOrder(Tx& tx, const Actor& actor,
                                            const posd::v1::CancelOrderRequest& request) {
  tx.request_id = request.request_id();
  auto load = [&](const std::string& id) -> absl::StatusOr<Order> {
    POSD_ASSIGN_OR_RETURN(auto order, LoadOrder(tx.db, id));
    if (!order.has_value()) return absl::NotFoundError(StrCat("no order ", id));
    return *std::move(order);
  };
  return Idempotent<Order>(tx.db, tx.now_ms, request.request_id(),
                           "posd.v1.OrderService.CancelOrder", request,
                           [&]() -> absl::StatusOr<Order> {
    if (request.order_id().empty()) return absl::InvalidArgumentError("order_id is required");
    POSD_ASSIGN_OR_RETURN(Order order, load(request.order_id()));
    POSD_ASSIGN_OR_RETURN(core::Order core_order, OrderFromProto(order));
    POSD_ASSIGN_OR_RETURN(auto payments, LoadPaymentsOfOrder(tx.db, order.id()));
    // Payments that never left posd go with the order; anything else blocks.
    for (auto& payment : payments) {
      if (payment.status() == posd::v1::PAYMENT_STATUS_CREATED) {
        payment.set_failure_reason("its order was canceled");
        POSD_ASSIGN_OR_RETURN(payment,
                              MovePayment(tx, payment, core::PaymentEvent::kCancelRequested));
      }
    }
    POSD_ASSIGN_OR_RETURN(auto core_payments, PaymentsFromProto(payments));
    POSD_RETURN_IF_ERROR(core::CheckOrderCancelable(core_order, core_payments));
    POSD_ASSIGN_OR_RETURN(const core::OrderState next,
                          core::NextOrderState(core_order.state, core::OrderEvent::kCancel));
    POSD_ASSIGN_OR_RETURN(order, load(order.id()));
    order.set_status(OrderStatusProto(next));
    order.set_cancel_reason(request.reason());
    *order.mutable_closed_at() = TimestampFromMillis(tx.now_ms);
    POSD_RETURN_IF_ERROR(SaveOrder(tx, order));
    POSD_RETURN_IF_ERROR(AppendCommandAudit(tx,
                                     AuditEntry{.actor = actor.principal,
                                                .role = actor.role,
                                                .action = "cancel_order",
                                                .subject = order.id(),
                                                .reason = request.reason(),
                                                .details = "order canceled"}));
    return load(order.id());
  }, load);
}

absl::StatusOr<Payment> Engine::DoCreatePayment(Tx& tx,
                                                const posd::v1::CreatePaymentRequest& request) {
  tx.request_id = request.request_id();
  auto load = [&](const std::string& id) -> absl::StatusOr<Payment> {
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, id));
    if (!payment.has_value()) return absl::NotFoundError(StrCat("no payment ", id));
    return *std::move(payment);
  };
  return Idempotent<Payment>(tx.db, tx.now_ms, request.request_id(),
                             "posd.v1.PaymentService.CreatePayment", request,
                             [&]() -> absl::StatusOr<Payment> {
    const Payment& input = request.payment();
    if (input.device_id().empty()) {
      return absl::InvalidArgumentError("payment.device_id is required: which terminal?");
    }
    if (!input.has_amount()) return absl::InvalidArgumentError("payment.amount is required");
    POSD_ASSIGN_OR_RETURN(auto parameters, PaymentParameters(request.parameters()));
    std::optional<Order> order;
    std::string currency = input.amount().currency_code();
    if (!input.order_id().empty()) {
      POSD_ASSIGN_OR_RETURN(order, LoadOrder(tx.db, input.order_id()));
      if (!order.has_value()) return absl::NotFoundError(StrCat("no order ", input.order_id()));
      if (currency.empty()) currency = order->currency_code();
    } else if (currency.empty()) {
      // A quick sale pays no order, so nothing else says the currency.
      return InvalidFieldError("payment.amount.currency_code",
                               "payment.amount.currency_code is required for a quick sale "
                               "(a payment without an order_id)");
    }
    POSD_ASSIGN_OR_RETURN(core::Money amount,
                          MoneyFromProto(MoneyProto(input.amount().amount_minor(), currency),
                                         "payment.amount"));
    const std::string tip_currency =
        input.tip().currency_code().empty() ? currency : input.tip().currency_code();
    POSD_ASSIGN_OR_RETURN(core::Money tip,
                          MoneyFromProto(MoneyProto(input.tip().amount_minor(), tip_currency),
                                         "payment.tip"));
    if (!amount.is_positive()) {
      return absl::InvalidArgumentError("payment.amount must be positive");
    }
    if (tip.is_negative() || tip.currency() != amount.currency()) {
      return absl::InvalidArgumentError(
          "payment.tip must not be negative and must be in the amount's currency");
    }
    // Before any hook or terminal hears of it: amount + tip can then never
    // leave int64's range, however the charge is summed later.
    POSD_RETURN_IF_ERROR(core::CheckAmountLimit(amount, "payment.amount"));
    POSD_RETURN_IF_ERROR(core::CheckAmountLimit(tip, "payment.tip"));
    Payment payment;
    payment.set_id(ids_->NextText(core::IdKind::kPayment));
    payment.set_order_id(input.order_id());
    payment.set_device_id(input.device_id());
    *payment.mutable_amount() = MoneyProto(amount);
    *payment.mutable_tip() = MoneyProto(tip);
    *payment.mutable_refunded_amount() = MoneyProto(0, currency);
    payment.set_status(posd::v1::PAYMENT_STATUS_CREATED);
    payment.set_request_id(request.request_id());
    *payment.mutable_created_at() = TimestampFromMillis(tx.now_ms);
    if (hooks_ != nullptr) {
      POSD_RETURN_IF_ERROR(hooks_->BeforePayment(
          BeforePaymentContext{.now = FromMillis(tx.now_ms), .parameters = std::move(parameters)},
          order ? &*order : nullptr, payment));
    }
    POSD_ASSIGN_OR_RETURN(core::Payment core_payment, PaymentFromProto(payment));
    POSD_RETURN_IF_ERROR(core_payment.Validate());
    if (order.has_value()) {
      POSD_ASSIGN_OR_RETURN(core::Order core_order, OrderFromProto(*order));
      POSD_ASSIGN_OR_RETURN(auto payments, LoadPaymentsOfOrder(tx.db, order->id()));
      POSD_ASSIGN_OR_RETURN(auto core_payments, PaymentsFromProto(payments));
      POSD_RETURN_IF_ERROR(AmountRule(
          core::CheckNewPayment(core_order, core_payments, core_payment.amount, core_payment.tip),
          "order", order->id()));
    }
    // Last, so that a refused request does not depend on the terminal. The
    // reservation, taken in this transaction, is what keeps a second
    // payment of the same group (or one racing this one's dispatch) off the
    // terminal; the device's own state follows only once the sale reaches it.
    POSD_RETURN_IF_ERROR(devices_.CheckReady(input.device_id()));
    POSD_RETURN_IF_ERROR(
        reservations_.Reserve(input.device_id(), payment.id(), tx.reservations));
    // DISPATCHED is committed with the payment itself; the terminal hears of
    // it only after the commit (SendSale), so a crash in between leaves a
    // DISPATCHED payment that recovery queries, never a charge posd forgot.
    POSD_ASSIGN_OR_RETURN(const core::PaymentState dispatched,
                          core::NextPaymentState(core::PaymentState::kCreated,
                                                 core::PaymentEvent::kDispatch));
    payment.set_status(PaymentStatusProto(dispatched));
    POSD_RETURN_IF_ERROR(SavePayment(tx, payment));
    if (order.has_value()) {
      POSD_ASSIGN_OR_RETURN(auto fresh, LoadOrder(tx.db, order->id()));
      POSD_RETURN_IF_ERROR(SaveOrder(tx, *std::move(fresh)));
    }
    SendSale(tx, payment);
    return load(payment.id());
  }, load);
}

absl::StatusOr<Payment> Engine::DoCancelPayment(Tx& tx, const Actor& actor,
                                                const posd::v1::CancelPaymentRequest& request) {
  tx.request_id = request.request_id();
  auto load = [&](const std::string& id) -> absl::StatusOr<Payment> {
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, id));
    if (!payment.has_value()) return absl::NotFoundError(StrCat("no payment ", id));
    return *std::move(payment);
  };
  return Idempotent<Payment>(tx.db, tx.now_ms, request.request_id(),
                             "posd.v1.PaymentService.CancelPayment", request,
                             [&]() -> absl::StatusOr<Payment> {
    if (request.payment_id().empty()) return absl::InvalidArgumentError("payment_id is required");
    POSD_ASSIGN_OR_RETURN(Payment payment, load(request.payment_id()));
    POSD_ASSIGN_OR_RETURN(const core::PaymentState state, StateOf(payment));
    if (state == core::PaymentState::kInDoubt) {
      return absl::FailedPreconditionError(
          StrCat("payment ", payment.id(),
                 " is IN_DOUBT: it cannot be canceled, only resolved (posctl payments resolve)"));
    }
    POSD_ASSIGN_OR_RETURN(const core::PaymentState next,
                          core::NextPaymentState(state, core::PaymentEvent::kCancelRequested));
    if (next != state) {
      payment.set_failure_reason(request.reason().empty() ? "canceled" : request.reason());
      POSD_ASSIGN_OR_RETURN(payment,
                            MovePayment(tx, payment, core::PaymentEvent::kCancelRequested));
    } else {
      // The terminal decides: CANCELED, or APPROVED if the card was charged.
      POSD_RETURN_IF_ERROR(MarkCancelRequested(tx.db, payment.id()));
      tx.after_commit.push_back([this, device = payment.device_id(), id = payment.id()] {
        (void)devices_.Cancel(device, id);
      });
    }
    POSD_RETURN_IF_ERROR(AppendCommandAudit(tx,
                                     AuditEntry{.actor = actor.principal,
                                                .role = actor.role,
                                                .action = "cancel_payment",
                                                .subject = payment.id(),
                                                .reason = request.reason(),
                                                .details = "cancel requested"}));
    return load(payment.id());
  }, load);
}

absl::StatusOr<Refund> Engine::DoRefundPayment(Tx& tx, const Actor& actor,
                                               const posd::v1::RefundPaymentRequest& request) {
  tx.request_id = request.request_id();
  POSD_RETURN_IF_ERROR(RequireOperator(actor, "refund a payment"));
  auto load = [&](const std::string& id) -> absl::StatusOr<Refund> {
    POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, id));
    if (!refund.has_value()) return absl::NotFoundError(StrCat("no refund ", id));
    return *std::move(refund);
  };
  return Idempotent<Refund>(tx.db, tx.now_ms, request.request_id(),
                            "posd.v1.PaymentService.RefundPayment", request,
                            [&]() -> absl::StatusOr<Refund> {
    if (request.payment_id().empty()) return absl::InvalidArgumentError("payment_id is required");
    if (request.reason().empty()) {
      return absl::InvalidArgumentError("a refund needs a reason (it goes into the audit log)");
    }
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, request.payment_id()));
    if (!payment.has_value()) return absl::NotFoundError(StrCat("no payment ", request.payment_id()));
    std::vector<core::Refund> core_refunds;
    for (const auto& earlier : payment->refunds()) {
      if (RefundUnfinished(earlier.status())) {
        return absl::FailedPreconditionError(
            StrCat("refund ", earlier.id(), " of payment ", payment->id(), " is still ",
                   RefundStatusName(earlier.status()), "; wait for it (or resolve it) first"));
      }
      POSD_ASSIGN_OR_RETURN(core::Refund converted, RefundFromProto(earlier));
      core_refunds.push_back(std::move(converted));
    }
    POSD_ASSIGN_OR_RETURN(core::Payment core_payment, PaymentFromProto(*payment));
    core::Money amount = core::Money::Zero(core_payment.currency());
    if (request.has_amount()) {
      POSD_ASSIGN_OR_RETURN(
          amount, MoneyFromProto(MoneyProto(request.amount().amount_minor(),
                                            request.amount().currency_code().empty()
                                                ? payment->amount().currency_code()
                                                : request.amount().currency_code()),
                                 "amount"));
    } else {
      POSD_ASSIGN_OR_RETURN(amount, core::RefundableAmount(core_payment, core_refunds));
      if (!amount.is_positive()) {
        return absl::FailedPreconditionError(
            StrCat("nothing of payment ", payment->id(), " is left to refund"));
      }
    }
    POSD_RETURN_IF_ERROR(
        AmountRule(core::ValidateRefundRequest(core_payment, core_refunds, amount), "payment",
                   payment->id()));
    const std::string device =
        request.device_id().empty() ? payment->device_id() : request.device_id();
    Refund refund;
    refund.set_id(ids_->NextText(core::IdKind::kRefund));
    refund.set_payment_id(payment->id());
    refund.set_order_id(payment->order_id());
    refund.set_device_id(device);
    *refund.mutable_amount() = MoneyProto(amount);
    refund.set_status(posd::v1::REFUND_STATUS_CREATED);
    refund.set_reason(request.reason());
    refund.set_requested_by(actor.principal);
    refund.set_request_id(request.request_id());
    *refund.mutable_created_at() = TimestampFromMillis(tx.now_ms);
    if (hooks_ != nullptr) {
      std::optional<Order> order;
      if (!payment->order_id().empty()) {
        POSD_ASSIGN_OR_RETURN(order, LoadOrder(tx.db, payment->order_id()));
      }
      POSD_RETURN_IF_ERROR(hooks_->BeforeRefund(FromMillis(tx.now_ms), order ? &*order : nullptr,
                                                *payment, refund));
    }
    POSD_RETURN_IF_ERROR(devices_.CheckReady(device));
    POSD_RETURN_IF_ERROR(reservations_.Reserve(device, refund.id(), tx.reservations));
    refund.set_status(posd::v1::REFUND_STATUS_DISPATCHED);
    POSD_RETURN_IF_ERROR(SaveRefund(tx, refund));
    POSD_ASSIGN_OR_RETURN(payment, LoadPayment(tx.db, payment->id()));
    POSD_RETURN_IF_ERROR(SavePayment(tx, *payment));
    POSD_RETURN_IF_ERROR(AppendCommandAudit(tx,
                                     AuditEntry{.actor = actor.principal,
                                                .role = actor.role,
                                                .action = "refund_payment",
                                                .subject = payment->id(),
                                                .reason = request.reason(),
                                                .details = StrCat("refund ", refund.id(), " of ",
                                                                  amount.ToString())}));
    RefundRequest send{.device_id = device,
                       .transaction_id = refund.id(),
                       .original_transaction_id = payment->id(),
                       .original_terminal_reference = payment->card().terminal_reference(),
                       .amount_minor = amount.minor_units(),
                       .currency = std::string(amount.currency().code())};
    tx.after_commit.push_back([this, send = std::move(send)] {
      if (absl::Status sent = devices_.StartRefund(send); !sent.ok()) {
        const std::string reason = StrCat("could not send the refund to terminal ",
                                          send.device_id, ": ", ToStd(sent.message()));
        EnqueueReport("send failed", [this, id = send.transaction_id, reason](Tx& inner) {
          return DoSendFailed(inner, id, reason);
        });
      }
    });
    return load(refund.id());
  }, load);
}

absl::StatusOr<Payment> Engine::DoResolvePayment(Tx& tx, const Actor& actor,
                                                 const posd::v1::ResolvePaymentRequest& request) {
  tx.request_id = request.request_id();
  POSD_RETURN_IF_ERROR(RequireOperator(actor, "resolve a payment by hand"));
  auto load = [&](const std::string& id) -> absl::StatusOr<Payment> {
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, id));
    if (!payment.has_value()) return absl::NotFoundError(StrCat("no payment ", id));
    return *std::move(payment);
  };
  return Idempotent<Payment>(tx.db, tx.now_ms, request.request_id(),
                             "posd.v1.PaymentService.ResolvePayment", request,
                             [&]() -> absl::StatusOr<Payment> {
    if (request.payment_id().empty()) return absl::InvalidArgumentError("payment_id is required");
    if (request.reason().empty()) {
      return absl::InvalidArgumentError(
          "a resolution needs a reason: the evidence (it goes into the audit log)");
    }
    core::PaymentEvent event;
    switch (request.outcome()) {
      case posd::v1::RESOLUTION_OUTCOME_APPROVED:
        event = core::PaymentEvent::kOperatorResolvedApproved;
        break;
      case posd::v1::RESOLUTION_OUTCOME_DECLINED:
        event = core::PaymentEvent::kOperatorResolvedDeclined;
        break;
      default:
        return absl::InvalidArgumentError("outcome must be APPROVED or DECLINED");
    }
    POSD_ASSIGN_OR_RETURN(Payment payment, load(request.payment_id()));
    if (payment.status() != posd::v1::PAYMENT_STATUS_IN_DOUBT) {
      return absl::FailedPreconditionError(
          StrCat("payment ", payment.id(), " is ", posd::v1::PaymentStatus_Name(payment.status()),
                 ", not IN_DOUBT: there is nothing to resolve"));
    }
    auto* resolution = payment.mutable_resolution();
    resolution->set_resolved_by(actor.principal);
    *resolution->mutable_resolved_at() = TimestampFromMillis(tx.now_ms);
    resolution->set_reason(request.reason());
    resolution->set_outcome(request.outcome());
    if (!request.approval_code().empty()) {
      payment.mutable_card()->set_approval_code(request.approval_code());
    }
    if (!request.terminal_reference().empty()) {
      payment.mutable_card()->set_terminal_reference(request.terminal_reference());
    }
    if (event == core::PaymentEvent::kOperatorResolvedDeclined) {
      payment.set_failure_reason(StrCat("resolved by hand as declined: ", request.reason()));
    } else {
      payment.clear_failure_reason();
    }
    POSD_ASSIGN_OR_RETURN(payment, MovePayment(tx, payment, event));
    POSD_RETURN_IF_ERROR(AppendCommandAudit(
        tx,
        AuditEntry{.actor = actor.principal,
                   .role = actor.role,
                   .action = "resolve_payment",
                   .subject = payment.id(),
                   .reason = request.reason(),
                   .details = StrCat("IN_DOUBT resolved as ",
                                     posd::v1::ResolutionOutcome_Name(request.outcome()),
                                     request.approval_code().empty()
                                         ? ""
                                         : StrCat(", approval code ", request.approval_code()))}));
    return load(payment.id());
  }, load);
}

absl::StatusOr<Refund> Engine::DoResolveRefund(Tx& tx, const Actor& actor,
                                               const posd::v1::ResolveRefundRequest& request) {
  tx.request_id = request.request_id();
  POSD_RETURN_IF_ERROR(RequireOperator(actor, "resolve a refund by hand"));
  auto load = [&](const std::string& id) -> absl::StatusOr<Refund> {
    POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, id));
    if (!refund.has_value()) return absl::NotFoundError(StrCat("no refund ", id));
    return *std::move(refund);
  };
  return Idempotent<Refund>(tx.db, tx.now_ms, request.request_id(),
                            "posd.v1.PaymentService.ResolveRefund", request,
                            [&]() -> absl::StatusOr<Refund> {
    if (request.refund_id().empty()) return absl::InvalidArgumentError("refund_id is required");
    if (request.reason().empty()) {
      return absl::InvalidArgumentError("a resolution needs a reason (it goes into the audit log)");
    }
    if (request.outcome() != posd::v1::RESOLUTION_OUTCOME_APPROVED &&
        request.outcome() != posd::v1::RESOLUTION_OUTCOME_DECLINED) {
      return absl::InvalidArgumentError("outcome must be APPROVED or DECLINED");
    }
    POSD_ASSIGN_OR_RETURN(Refund refund, load(request.refund_id()));
    if (refund.status() != posd::v1::REFUND_STATUS_IN_DOUBT) {
      return absl::FailedPreconditionError(
          StrCat("refund ", refund.id(), " is ", RefundStatusName(refund.status()),
                 ", not IN_DOUBT: there is nothing to resolve"));
    }
    auto* resolution = refund.mutable_resolution();
    resolution->set_resolved_by(actor.principal);
    *resolution->mutable_resolved_at() = TimestampFromMillis(tx.now_ms);
    resolution->set_reason(request.reason());
    resolution->set_outcome(request.outcome());
    if (!request.terminal_reference().empty()) {
      refund.mutable_card()->set_terminal_reference(request.terminal_reference());
    }
    const bool approved = request.outcome() == posd::v1::RESOLUTION_OUTCOME_APPROVED;
    POSD_RETURN_IF_ERROR(SettleRefund(
        tx, refund,
        approved ? posd::v1::REFUND_STATUS_SUCCEEDED : posd::v1::REFUND_STATUS_DECLINED));
    POSD_RETURN_IF_ERROR(AppendCommandAudit(tx,
                                     AuditEntry{.actor = actor.principal,
                                                .role = actor.role,
                                                .action = "resolve_refund",
                                                .subject = refund.id(),
                                                .reason = request.reason(),
                                                .details = StrCat("IN_DOUBT resolved as ",
                                                                  approved ? "APPROVED"
                                                                           : "DECLINED")}));
    return load(refund.id());
  }, load);
}

// ---------------------------------------------------------------------------
// What terminals report (DeviceEvents), recovery.

void Engine::EnqueueReport(std::string name, std::function<absl::Status(Tx&)> run) {
  Enqueue(Command{std::move(name), std::move(run), nullptr, /*retry_until_committed=*/true});
}

void Engine::OnProgress(const TransactionProgress& progress) {
  EnqueueReport("progress", [this, progress](Tx& tx) { return DoProgress(tx, progress); });
}

void Engine::OnResult(const TransactionResult& result) {
  EnqueueReport("result", [this, result](Tx& tx) { return DoResult(tx, result, false); });
}

void Engine::OnStatusReply(const StatusReply& reply) {
  EnqueueReport("status reply", [this, reply](Tx& tx) { return DoStatusReply(tx, reply); });
}

void Engine::OnLinkLost(std::string_view device_id, std::string_view reason) {
  EnqueueReport("link lost",
                [this, device = std::string(device_id), why = std::string(reason)](Tx& tx) {
                  return DoLinkLost(tx, device, why);
                });
}

void Engine::OnDeviceReady(std::string_view device_id) {
  EnqueueReport("device ready", [this, device = std::string(device_id)](Tx& tx) {
    return DoDeviceReady(tx, device);
  });
}

absl::Status Engine::DoProgress(Tx& tx, const TransactionProgress& progress) {
  Event live;
  live.set_kind(posd::v1::EVENT_KIND_PAYMENT_PROGRESS);
  *live.mutable_occurred_at() = TimestampFromMillis(tx.now_ms);
  auto* report = live.mutable_payment_progress();
  report->set_device_id(progress.device_id);
  report->set_stage(StageProto(progress.stage));
  report->set_display_message(progress.display_message);
  if (IsRefundId(progress.transaction_id)) {
    POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, progress.transaction_id));
    if (!refund.has_value()) return absl::NotFoundError("progress for an unknown refund");
    report->set_refund_id(refund->id());
    report->set_payment_id(refund->payment_id());
    report->set_order_id(refund->order_id());
    if (refund->status() == posd::v1::REFUND_STATUS_DISPATCHED ||
        refund->status() == posd::v1::REFUND_STATUS_IN_DOUBT) {
      refund->set_status(posd::v1::REFUND_STATUS_PROCESSING);
      POSD_RETURN_IF_ERROR(SaveRefund(tx, *refund));
    }
  } else {
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, progress.transaction_id));
    if (!payment.has_value()) return absl::NotFoundError("progress for an unknown payment");
    report->set_payment_id(payment->id());
    report->set_order_id(payment->order_id());
    // Only the first progress is a state change (the terminal has it); later
    // ones are live only, so a chatty terminal does not grow the log.
    if (payment->status() == posd::v1::PAYMENT_STATUS_DISPATCHED ||
        payment->status() == posd::v1::PAYMENT_STATUS_IN_DOUBT) {
      payment->set_terminal_stage(StageProto(progress.stage));
      payment->set_terminal_message(progress.display_message);
      POSD_RETURN_IF_ERROR(MovePayment(tx, *payment, core::PaymentEvent::kProgress).status());
    } else if (payment->status() != posd::v1::PAYMENT_STATUS_AUTHORIZING) {
      return absl::OkStatus();  // a late progress for a finished payment
    } else if (payment->terminal_stage() != StageProto(progress.stage) ||
               payment->terminal_message() != progress.display_message) {
      // The row still follows the terminal (without an event), so GetPayment
      // shows the stage the PAYMENT_PROGRESS events show ("Enter PIN").
      payment->set_terminal_stage(StageProto(progress.stage));
      payment->set_terminal_message(progress.display_message);
      POSD_RETURN_IF_ERROR(WritePayment(tx.db, *payment));
    }
  }
  tx.after_commit.push_back([this, live = std::move(live)] { broadcaster_.PublishLive(live); });
  return absl::OkStatus();
}

absl::Status Engine::DoResult(Tx& tx, const TransactionResult& result, bool from_status_query) {
  if (IsRefundId(result.transaction_id)) {
    POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, result.transaction_id));
    if (!refund.has_value()) return absl::NotFoundError("a result for an unknown refund");
    if (!RefundUnfinished(refund->status())) {
      return absl::FailedPreconditionError("a duplicate result for a finished refund");
    }
    if (!result.approval_code.empty()) refund->mutable_card()->set_approval_code(result.approval_code);
    if (!result.terminal_reference.empty()) {
      refund->mutable_card()->set_terminal_reference(result.terminal_reference);
    }
    posd::v1::RefundStatus status = posd::v1::REFUND_STATUS_FAILED;
    if (result.outcome == TransactionOutcome::kApproved) {
      if (const std::string mismatch = RefundResultMismatch(*refund, result); !mismatch.empty()) {
        // Money may have gone back, but not what was asked: an operator
        // settles it (ResolveRefund) with the terminal's receipt.
        refund->set_status(posd::v1::REFUND_STATUS_IN_DOUBT);
        refund->set_failure_reason(StrCat(kAmountMismatchPrefix, mismatch));
        spdlog::error("engine: refund {} on terminal {} held IN_DOUBT: {}", refund->id(),
                      result.device_id, refund->failure_reason());
        return SaveRefund(tx, *refund);
      }
    }
    switch (result.outcome) {
      case TransactionOutcome::kApproved: status = posd::v1::REFUND_STATUS_SUCCEEDED; break;
      case TransactionOutcome::kDeclined: status = posd::v1::REFUND_STATUS_DECLINED; break;
      case TransactionOutcome::kCanceled:
      case TransactionOutcome::kFailed: status = posd::v1::REFUND_STATUS_FAILED; break;
    }
    if (status != posd::v1::REFUND_STATUS_SUCCEEDED) refund->set_failure_reason(result.message);
    return SettleRefund(tx, *std::move(refund), status);
  }

  POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, result.transaction_id));
  if (!payment.has_value()) return absl::NotFoundError("a result for an unknown payment");
  const bool in_doubt = payment->status() == posd::v1::PAYMENT_STATUS_IN_DOUBT;
  core::PaymentEvent event = core::PaymentEvent::kFailed;
  switch (result.outcome) {
    case TransactionOutcome::kApproved:
      event = from_status_query ? core::PaymentEvent::kStatusQueryApproved
                                : core::PaymentEvent::kApproved;
      break;
    case TransactionOutcome::kDeclined:
      event = from_status_query ? core::PaymentEvent::kStatusQueryDeclined
                                : core::PaymentEvent::kDeclined;
      break;
    case TransactionOutcome::kCanceled: event = core::PaymentEvent::kCanceled; break;
    case TransactionOutcome::kFailed:
      // The terminal's own word that nothing was charged ends a doubt the way
      // "not found" does; a local failure could not.
      event = in_doubt ? core::PaymentEvent::kStatusQueryNotFound : core::PaymentEvent::kFailed;
      break;
  }
  if (result.outcome == TransactionOutcome::kApproved) {
    POSD_ASSIGN_OR_RETURN(event, ApplyApprovedSale(*payment, result, event));
    if (event == core::PaymentEvent::kResultMismatch) {
      spdlog::error("engine: payment {} on terminal {} held IN_DOUBT: {}", payment->id(),
                    result.device_id, payment->failure_reason());
    }
  } else {
    payment->set_decline_code(result.decline_code);
    payment->set_failure_reason(result.message.empty() ? "the terminal reported no reason"
                                                       : result.message);
    if (!result.terminal_reference.empty()) {
      payment->mutable_card()->set_terminal_reference(result.terminal_reference);
    }
  }
  return MovePayment(tx, *std::move(payment), event).status();
}

absl::Status Engine::DoStatusReply(Tx& tx, const StatusReply& reply) {
  switch (reply.kind) {
    case StatusReplyKind::kProcessed: {
      TransactionResult result = reply.result;
      result.device_id = reply.device_id;
      result.transaction_id = reply.transaction_id;
      return DoResult(tx, result, true);
    }
    case StatusReplyKind::kInProgress:
      if (IsRefundId(reply.transaction_id)) {
        POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, reply.transaction_id));
        if (!refund.has_value() || refund->status() != posd::v1::REFUND_STATUS_IN_DOUBT) {
          return absl::OkStatus();
        }
        refund->set_status(posd::v1::REFUND_STATUS_PROCESSING);
        refund->clear_failure_reason();
        return SaveRefund(tx, *refund);
      } else {
        POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, reply.transaction_id));
        if (!payment.has_value()) return absl::NotFoundError("a reply for an unknown payment");
        payment->clear_failure_reason();
        return MovePayment(tx, *std::move(payment), core::PaymentEvent::kStatusQueryInProgress)
            .status();
      }
      break;
    case StatusReplyKind::kNotFound:
      if (IsRefundId(reply.transaction_id)) {
        POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, reply.transaction_id));
        if (!refund.has_value() || refund->status() != posd::v1::REFUND_STATUS_IN_DOUBT) {
          return absl::OkStatus();
        }
        refund->set_failure_reason("the terminal never received the refund");
        return SettleRefund(tx, *std::move(refund), posd::v1::REFUND_STATUS_FAILED);
      } else {
        POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, reply.transaction_id));
        if (!payment.has_value()) return absl::NotFoundError("a reply for an unknown payment");
        payment->set_failure_reason("the terminal never received the sale; nothing was charged");
        return MovePayment(tx, *std::move(payment), core::PaymentEvent::kStatusQueryNotFound)
            .status();
      }
  }
  return absl::OkStatus();
}

absl::Status Engine::DoLinkLost(Tx& tx, const std::string& device_id, const std::string& reason) {
  POSD_ASSIGN_OR_RETURN(auto ids, SelectPaymentIds(tx.db,
                                                   "device_id = ? AND status IN ('DISPATCHED', "
                                                   "'AUTHORIZING')",
                                                   {device_id}));
  for (const auto& id : ids) {
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, id));
    payment->set_failure_reason(StrCat("link to terminal ", device_id, " lost: ", reason));
    POSD_RETURN_IF_ERROR(MovePayment(tx, *std::move(payment), core::PaymentEvent::kLinkLost).status());
  }
  POSD_ASSIGN_OR_RETURN(auto refund_ids,
                        SelectRefundIds(tx.db,
                                        "device_id = ? AND status IN ('DISPATCHED', 'PROCESSING')",
                                        {device_id}));
  for (const auto& id : refund_ids) {
    POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, id));
    refund->set_status(posd::v1::REFUND_STATUS_IN_DOUBT);
    refund->set_failure_reason(StrCat("link to terminal ", device_id, " lost: ", reason));
    POSD_RETURN_IF_ERROR(SaveRefund(tx, *refund));
  }
  return absl::OkStatus();
}

absl::Status Engine::DoDeviceReady(Tx& tx, const std::string& device_id) {
  POSD_ASSIGN_OR_RETURN(auto ids, SelectPaymentIds(tx.db, "device_id = ? AND status = 'IN_DOUBT'",
                                                   {device_id}));
  POSD_ASSIGN_OR_RETURN(auto refund_ids,
                        SelectRefundIds(tx.db, "device_id = ? AND status = 'IN_DOUBT'",
                                        {device_id}));
  POSD_ASSIGN_OR_RETURN(std::vector<std::string> cancels, CancelsToResend(tx, ids));
  ids.insert(ids.end(), refund_ids.begin(), refund_ids.end());
  if (ids.empty()) return absl::OkStatus();
  // The answers arrive as OnStatusReply; a query that cannot be sent leaves
  // the doubt for the next OnDeviceReady.
  tx.after_commit.push_back(
      [this, device_id, ids = std::move(ids), cancels = std::move(cancels)] {
        for (const auto& id : ids) (void)devices_.QueryStatus(device_id, id);
        for (const auto& id : cancels) (void)devices_.Cancel(device_id, id);
      });
  return absl::OkStatus();
}

// Of the in-doubt `payment_ids`, those whose cancel was requested (CancelPayment
// accepted it) and never answered: the abort may have been lost with the link
// or a crash of posd, so it is sent again after the status query (the
// terminal answers an abort of a finished sale with its outcome; the port's
// Cancel is safe to repeat).
absl::StatusOr<std::vector<std::string>> Engine::CancelsToResend(
    Tx& tx, const std::vector<std::string>& payment_ids) {
  std::vector<std::string> cancels;
  for (const auto& id : payment_ids) {
    POSD_ASSIGN_OR_RETURN(const bool requested, CancelRequested(tx.db, id));
    if (requested) cancels.push_back(id);
  }
  return cancels;
}

absl::Status Engine::DoSendFailed(Tx& tx, const std::string& transaction_id,
                                  const std::string& reason) {
  if (IsRefundId(transaction_id)) {
    POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, transaction_id));
    if (!refund.has_value() || refund->status() != posd::v1::REFUND_STATUS_DISPATCHED) {
      return absl::OkStatus();
    }
    refund->set_failure_reason(reason);
    return SettleRefund(tx, *std::move(refund), posd::v1::REFUND_STATUS_FAILED);
  }
  POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, transaction_id));
  if (!payment.has_value() || payment->status() != posd::v1::PAYMENT_STATUS_DISPATCHED) {
    return absl::OkStatus();
  }
  payment->set_failure_reason(reason);
  return MovePayment(tx, *std::move(payment), core::PaymentEvent::kFailed).status();
}

absl::Status Engine::DoRecover(Tx& tx) {
  POSD_ASSIGN_OR_RETURN(auto ids, SelectPaymentIds(tx.db, "recovery_point <> 'none'", {}));
  std::vector<std::pair<std::string, std::string>> to_query;   // device, transaction
  std::vector<std::pair<std::string, std::string>> to_cancel;  // device, payment
  for (const auto& id : ids) {
    POSD_ASSIGN_OR_RETURN(auto payment, LoadPayment(tx.db, id));
    if (payment->status() == posd::v1::PAYMENT_STATUS_CREATED) {
      payment->set_failure_reason("posd restarted before sending it; nothing was charged");
    } else if (payment->status() != posd::v1::PAYMENT_STATUS_IN_DOUBT) {
      payment->set_failure_reason(
          "posd restarted while the terminal had it; asking the terminal what happened");
    }
    if (payment->status() != posd::v1::PAYMENT_STATUS_IN_DOUBT) {
      POSD_ASSIGN_OR_RETURN(*payment,
                            MovePayment(tx, *std::move(payment), core::PaymentEvent::kCrashed));
    }
    if (payment->status() == posd::v1::PAYMENT_STATUS_IN_DOUBT) {
      to_query.emplace_back(payment->device_id(), payment->id());
      POSD_ASSIGN_OR_RETURN(const std::vector<std::string> cancel,
                            CancelsToResend(tx, {payment->id()}));
      if (!cancel.empty()) to_cancel.emplace_back(payment->device_id(), payment->id());
    }
  }
  POSD_ASSIGN_OR_RETURN(auto refund_ids, SelectRefundIds(tx.db, "recovery_point <> 'none'", {}));
  for (const auto& id : refund_ids) {
    POSD_ASSIGN_OR_RETURN(auto refund, LoadRefund(tx.db, id));
    if (refund->status() == posd::v1::REFUND_STATUS_CREATED) {
      refund->set_failure_reason("posd restarted before sending it; nothing was refunded");
      POSD_RETURN_IF_ERROR(SettleRefund(tx, *std::move(refund), posd::v1::REFUND_STATUS_FAILED));
      continue;
    }
    if (refund->status() != posd::v1::REFUND_STATUS_IN_DOUBT) {
      refund->set_status(posd::v1::REFUND_STATUS_IN_DOUBT);
      refund->set_failure_reason("posd restarted while the terminal had it");
      POSD_RETURN_IF_ERROR(SaveRefund(tx, *refund));
    }
    to_query.emplace_back(refund->device_id(), refund->id());
  }
  if (!to_query.empty()) {
    // Queries first: a port adopts the transaction with the query, and the
    // abort then goes with it (now, or when the terminal is linked).
    tx.after_commit.push_back([this, to_query = std::move(to_query),
                               to_cancel = std::move(to_cancel)] {
      for (const auto& [device, id] : to_query) (void)devices_.QueryStatus(device, id);
      for (const auto& [device, id] : to_cancel) (void)devices_.Cancel(device, id);
    });
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Hook runs: the outbox's store (hooks::HookRunStore) and RetryHookRun.

template <typename T>
absl::StatusOr<T> Engine::SubmitAndWait(std::string name,
                                        std::function<absl::StatusOr<T>(Tx&)> run) {
  std::promise<absl::StatusOr<T>> finished;
  Submit<T>(std::move(name), std::move(run),
            [&finished](absl::StatusOr<T> result) { finished.set_value(std::move(result)); });
  return finished.get_future().get();
}

void Engine::SetHookRunsListener(std::function<void()> listener) {
  const std::lock_guard lock(listener_mutex_);
  hook_runs_listener_ = std::move(listener);
}

void Engine::NotifyHookRunsAfterCommit(Tx& tx) {
  tx.after_commit.push_back([this] {
    const std::lock_guard lock(listener_mutex_);
    if (hook_runs_listener_) hook_runs_listener_();
  });
}

absl::Status Engine::SaveHookRun(Tx& tx, const hooks::HookRun& run) {
  POSD_RETURN_IF_ERROR(UpdateHookRun(tx.db, run));
  Event event;
  event.set_kind(posd::v1::EVENT_KIND_HOOK_RUN_CHANGED);
  *event.mutable_hook_run() = HookRunProto(run, hook_max_attempts_);
  return AppendEvent(tx, std::move(event), run.subject_id).status();
}

absl::StatusOr<hooks::HookRun> Engine::LoadRunForUpdate(Tx& tx, std::string_view run_id) {
  if (run_id.empty()) return absl::InvalidArgumentError("hook_run_id is required");
  POSD_ASSIGN_OR_RETURN(auto run, LoadHookRun(tx.db, run_id));
  if (!run.has_value()) return absl::NotFoundError(StrCat("no hook run ", run_id));
  return *std::move(run);
}

absl::StatusOr<int> Engine::RecoverInterrupted(std::chrono::system_clock::time_point now) {
  return SubmitAndWait<int>("recover hook runs", [this, now](Tx& tx) -> absl::StatusOr<int> {
    POSD_ASSIGN_OR_RETURN(const std::vector<std::string> ids, RunningHookRunIds(tx.db));
    for (const std::string& id : ids) {
      POSD_ASSIGN_OR_RETURN(hooks::HookRun run, LoadRunForUpdate(tx, id));
      run.state = hooks::HookRunState::kRetryScheduled;
      run.last_error = "interrupted by a restart of posd: the attempt may or may not have run";
      run.next_attempt_at = now;
      run.updated_at = now;
      POSD_RETURN_IF_ERROR(SaveHookRun(tx, run));
    }
    if (!ids.empty()) NotifyHookRunsAfterCommit(tx);
    return static_cast<int>(ids.size());
  });
}

absl::StatusOr<std::vector<hooks::HookRun>> Engine::ClaimDueRuns(
    std::chrono::system_clock::time_point now, int limit) {
  return SubmitAndWait<std::vector<hooks::HookRun>>(
      "claim hook runs", [this, now, limit](Tx& tx) -> absl::StatusOr<std::vector<hooks::HookRun>> {
        POSD_ASSIGN_OR_RETURN(const std::vector<std::string> ids,
                              DueHookRunIds(tx.db, ToMillis(now), limit));
        std::vector<hooks::HookRun> claimed;
        for (const std::string& id : ids) {
          POSD_ASSIGN_OR_RETURN(hooks::HookRun run, LoadRunForUpdate(tx, id));
          run.state = hooks::HookRunState::kRunning;
          run.attempts += 1;
          run.next_attempt_at.reset();
          run.updated_at = now;
          POSD_RETURN_IF_ERROR(SaveHookRun(tx, run));
          claimed.push_back(std::move(run));
        }
        return claimed;
      });
}

absl::Status Engine::RecordSuccess(std::string_view run_id,
                                   std::chrono::system_clock::time_point now) {
  return SubmitAndWait<bool>("hook run succeeded",
                             [this, id = std::string(run_id), now](Tx& tx) -> absl::StatusOr<bool> {
                               POSD_ASSIGN_OR_RETURN(hooks::HookRun run, LoadRunForUpdate(tx, id));
                               if (run.state != hooks::HookRunState::kRunning) {
                                 return absl::FailedPreconditionError(
                                     StrCat("hook run ", id, " is ", hooks::ToString(run.state),
                                            ", not RUNNING"));
                               }
                               run.state = hooks::HookRunState::kSucceeded;
                               run.updated_at = now;
                               run.completed_at = now;
                               POSD_RETURN_IF_ERROR(SaveHookRun(tx, run));
                               return true;
                             })
      .status();
}

absl::Status Engine::RecordFailure(std::string_view run_id, const hooks::HookRunFailure& failure,
                                   std::chrono::system_clock::time_point now) {
  return SubmitAndWait<bool>(
             "hook run failed",
             [this, id = std::string(run_id), failure, now](Tx& tx) -> absl::StatusOr<bool> {
               if (failure.next_state != hooks::HookRunState::kRetryScheduled &&
                   failure.next_state != hooks::HookRunState::kFailed &&
                   failure.next_state != hooks::HookRunState::kAbandoned) {
                 return absl::InvalidArgumentError(
                     StrCat("a failed attempt cannot leave a run ",
                            hooks::ToString(failure.next_state)));
               }
               POSD_ASSIGN_OR_RETURN(hooks::HookRun run, LoadRunForUpdate(tx, id));
               if (run.state != hooks::HookRunState::kRunning) {
                 return absl::FailedPreconditionError(StrCat(
                     "hook run ", id, " is ", hooks::ToString(run.state), ", not RUNNING"));
               }
               run.state = failure.next_state;
               run.last_error = failure.error;
               run.updated_at = now;
               if (failure.next_state == hooks::HookRunState::kRetryScheduled) {
                 run.next_attempt_at = failure.next_attempt_at.value_or(now);
                 NotifyHookRunsAfterCommit(tx);
               } else {
                 run.completed_at = now;
               }
               POSD_RETURN_IF_ERROR(SaveHookRun(tx, run));
               return true;
             })
      .status();
}

absl::StatusOr<std::optional<std::chrono::system_clock::time_point>> Engine::NextDueAt() {
  POSD_ASSIGN_OR_RETURN(const std::optional<int64_t> due, queries_->NextHookRunDueMillis());
  if (!due.has_value()) return std::optional<std::chrono::system_clock::time_point>();
  return std::optional<std::chrono::system_clock::time_point>(FromMillis(*due));
}

absl::StatusOr<hooks::HookRunPage> Engine::ListRuns(const hooks::HookRunFilter& filter) {
  return queries_->ListHookRuns(filter);
}

absl::StatusOr<hooks::HookRun> Engine::GetRun(std::string_view run_id) {
  return queries_->GetHookRun(run_id);
}

absl::StatusOr<hooks::HookRun> Engine::DoRetryRun(Tx& tx, std::string_view run_id) {
  POSD_ASSIGN_OR_RETURN(hooks::HookRun run, LoadRunForUpdate(tx, run_id));
  if (!hooks::IsRetryable(run.state)) {
    return absl::FailedPreconditionError(
        StrCat("hook run ", run.id, " is ", hooks::ToString(run.state),
               ": only FAILED, ABANDONED and RETRY_SCHEDULED runs can be retried"));
  }
  const auto now = FromMillis(tx.now_ms);
  run.state = hooks::HookRunState::kRetryScheduled;
  run.attempts = 0;
  run.next_attempt_at = now;
  run.completed_at.reset();
  run.updated_at = now;
  POSD_RETURN_IF_ERROR(SaveHookRun(tx, run));
  NotifyHookRunsAfterCommit(tx);
  return run;
}

absl::StatusOr<hooks::HookRun> Engine::RetryRun(std::string_view run_id,
                                                std::chrono::system_clock::time_point) {
  // Due at the command's time, which is the engine's clock like every
  // other timestamp it writes.
  return SubmitAndWait<hooks::HookRun>(
      "retry hook run", [this, id = std::string(run_id)](Tx& tx) { return DoRetryRun(tx, id); });
}

void Engine::RetryHookRun(const Actor& actor, const posd::v1::RetryHookRunRequest& request,
                          Callback<posd::v1::HookRun> done) {
  Submit<posd::v1::HookRun>("RetryHookRun", [this, actor, request](Tx& tx) {
    return DoRetryHookRun(tx, actor, request);
  }, std::move(done), Attempt(actor, "retry_hook_run", request.hook_run_id(), request.reason(),
                              request.request_id()));
}

absl::StatusOr<posd::v1::HookRun> Engine::DoRetryHookRun(
    Tx& tx, const Actor& actor, const posd::v1::RetryHookRunRequest& request) {
  tx.request_id = request.request_id();
  POSD_RETURN_IF_ERROR(RequireOperator(actor, "retry a hook run"));
  auto load = [&](const std::string& id) -> absl::StatusOr<posd::v1::HookRun> {
    POSD_ASSIGN_OR_RETURN(hooks::HookRun run, LoadRunForUpdate(tx, id));
    return HookRunProto(run, hook_max_attempts_);
  };
  return Idempotent<posd::v1::HookRun>(
      tx.db, tx.now_ms, request.request_id(), "posd.v1.HookService.RetryHookRun", request,
      [&]() -> absl::StatusOr<posd::v1::HookRun> {
        if (request.reason().size() > kMaxNote) {
          return absl::InvalidArgumentError("reason is longer than 1024 characters");
        }
        POSD_ASSIGN_OR_RETURN(hooks::HookRun run, LoadRunForUpdate(tx, request.hook_run_id()));
        // A retry of a run whose plugin is gone would only be abandoned again.
        bool enabled = false;
        if (hooks_ != nullptr) {
          for (const auto& plan : hooks_->PlanAfterRuns(run.hook_point, run.subject_id)) {
            enabled = enabled || plan.plugin == run.plugin;
          }
        }
        if (!enabled) {
          return absl::FailedPreconditionError(
              StrCat("hook run ", run.id, ": plugin \"", run.plugin, "\" is not enabled for ",
                     hooks::ToString(run.hook_point), " any more; enable it in the configuration "
                     "first"));
        }
        POSD_ASSIGN_OR_RETURN(run, DoRetryRun(tx, run.id));
        POSD_RETURN_IF_ERROR(AppendCommandAudit(
            tx,
            AuditEntry{.actor = actor.principal,
                       .role = actor.role,
                       .action = "retry_hook_run",
                       .subject = run.id,
                       .reason = request.reason(),
                       .details = StrCat(hooks::ToString(run.hook_point), " of plugin ", run.plugin,
                                         " for ", run.subject_id, " scheduled again")}));
        return HookRunProto(run, hook_max_attempts_);
      },
      load);
}

}  // namespace posd::engine
