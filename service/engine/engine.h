// The engine: posd's commands on orders, payments and refunds, as durable
// state machines on SQLite.
//
// Every command (API calls, terminal results, link loss, recovery) runs on
// one writer thread that owns the only write connection (store.writer()).
// Commands queue up; the writer takes every queued command (up to
// max_group_size) and runs them in ONE transaction (group commit), each under
// its own SAVEPOINT so that a failing command is rolled back alone. Each
// command: checks core's rules, runs the before-hooks, moves the state
// machine, writes its rows, appends its events to event_log, its audit record
// (operator actions) and its after-hook runs (hook_runs outbox), and records
// its request_id (idempotency). Its caller hears the result after the COMMIT.
// What must happen outside the database (asking a terminal, telling event
// watchers) happens after the commit, so DISPATCHED is durable before the
// terminal sees a byte, and no watcher sees an event that could roll back.
//
// What a terminal reports (results, status replies, progress, link loss) is
// never dropped because the database could not take it: when a group's
// transaction fails as a whole (disk full, I/O error), those commands are
// queued again after a pause that grows from 100 ms to 5 s, until a commit
// succeeds or the engine stops (then recovery at the next start asks the
// terminal again). API commands fail with the store's error instead.
//
// Recovery at start (Start): payments never sent (CREATED) fail; payments the
// terminal may have (DISPATCHED, AUTHORIZING) become IN_DOUBT; every IN_DOUBT
// payment and refund gets a status query once its terminal is ready
// (DeviceEvents::OnDeviceReady). A payment whose cancel CancelPayment had
// accepted (recorded with it) gets its abort sent again after the query: the
// terminal may never have received it.
//
// Hook runs: the engine is the hooks::HookRunStore of the outbox runner and
// the API. Runs are inserted by the transition that creates them (with the
// subject's snapshot); every other change of a run (claim, outcome, recovery,
// operator retry) is a command on the writer like any other, and appends a
// HOOK_RUN_CHANGED event. After a commit that made runs due, the listener set
// with SetHookRunsListener is called (posd wakes the outbox runner there).
//
// Lifetime: Start() returns a running engine; Stop() (or the destructor)
// drains the queue, detaches from the device port and joins the writer.
// `store`, `devices`, `hooks` and `clock` must outlive the engine. Callbacks
// of command methods run on the writer thread after the commit: they must be
// quick and must not wait for another command.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "posd/v1/events.pb.h"
#include "posd/v1/hooks.pb.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "service/common/clock.h"
#include "service/core/ids.h"
#include "service/core/payment_state_machine.h"
#include "service/core/random_source.h"
#include "service/engine/device_port.h"
#include "service/engine/event_broadcaster.h"
#include "service/engine/hook_points.h"
#include "service/engine/queries.h"
#include "service/engine/request_journal.h"
#include "service/engine/terminal_reservation.h"
#include "service/hooks/hook_run_store.h"
#include "service/store/store.h"

namespace posd::engine {

// Who asks, for roles and the audit log.
struct Actor {
  std::string principal;      // e.g. "local (unix socket)" or a person's name
  std::string role = "operator";  // "ui", "operator" or "fleet"
};

struct EngineOptions {
  store::Store* store = nullptr;
  DevicePort* devices = nullptr;
  HookPoints* hooks = nullptr;  // optional: no plugins
  const Clock* clock = nullptr;  // optional: the real clock
  // Optional: ids from a system-seeded generator. Tests pass a seeded one.
  core::RandomSource* random = nullptr;
  // At most this many commands share one transaction.
  size_t max_group_size = 64;
  // The outbox runner's attempt budget, shown with every hook run.
  int hook_max_attempts = 10;
};

// Counters for tests and metrics.
struct EngineStats {
  uint64_t transactions = 0;  // committed (or failed) group transactions
  uint64_t commands = 0;      // commands run
  uint64_t largest_group = 0;
  uint64_t queued = 0;        // commands waiting for the writer now
};

template <typename T>
using Callback = std::function<void(absl::StatusOr<T>)>;

// An audited operator action that the API layer refused before it reached
// the engine (a role that may not do it, malformed arguments).
struct Refusal {
  Actor actor;
  std::string action;      // as the audit log stores it, e.g. "refund_payment"
  std::string subject;     // id of what it would have acted on; may be empty
  std::string reason;      // the reason the caller gave, if any
  std::string request_id;  // of the call, as given (may be empty or invalid)
  absl::Status error;      // what the caller is told; not OK
};

class Engine final : public DeviceEvents, public WriteRunner, public hooks::HookRunStore {
 public:
  // Opens readers, runs recovery and attaches to the device port.
  static absl::StatusOr<std::unique_ptr<Engine>> Start(const EngineOptions& options);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Finishes queued commands, detaches from the device port and stops the
  // writer. Commands submitted afterwards fail with UNAVAILABLE. Idempotent.
  void Stop();

  // Commands. Every mutating call needs a request_id (see docs/api.md,
  // "Idempotency"): the same id with the same arguments returns the first
  // result (the resource in its current state); with other arguments it is
  // ALREADY_EXISTS.
  void CreateOrder(const Actor& actor, const posd::v1::CreateOrderRequest& request,
                   Callback<posd::v1::Order> done);
  void PlaceOrder(const Actor& actor, const posd::v1::PlaceOrderRequest& request,
                  Callback<posd::v1::Order> done);
  void CancelOrder(const Actor& actor, const posd::v1::CancelOrderRequest& request,
                   Callback<posd::v1::Order> done);
  // Records the payment as DISPATCHED and, after the commit, hands it to the
  // terminal. Returns the DISPATCHED payment.
  void CreatePayment(const Actor& actor, const posd::v1::CreatePaymentRequest& request,
                     Callback<posd::v1::Payment> done);
  void CancelPayment(const Actor& actor, const posd::v1::CancelPaymentRequest& request,
                     Callback<posd::v1::Payment> done);
  // Operator role; audited.
  void RefundPayment(const Actor& actor, const posd::v1::RefundPaymentRequest& request,
                     Callback<posd::v1::Refund> done);
  // Operator role and a reason; audited.
  void ResolvePayment(const Actor& actor, const posd::v1::ResolvePaymentRequest& request,
                      Callback<posd::v1::Payment> done);
  void ResolveRefund(const Actor& actor, const posd::v1::ResolveRefundRequest& request,
                     Callback<posd::v1::Refund> done);

  // Audit log. Audited commands (CancelOrder, CancelPayment, RefundPayment,
  // ResolvePayment, ResolveRefund, RetryHookRun) write a SUCCEEDED record
  // with the call's request_id in their transaction. One that fails on its
  // own (state machine, validation, a before-hook's veto, permission) is
  // rolled back whole and a REFUSED record with its error is written as a
  // command of its own right after; its caller hears the error once that
  // command committed. A replay answered from the request journal writes
  // nothing; a retry of a refused call runs again and is audited again.
  // When the refusal record cannot be written, that is logged and the caller
  // still gets the command's own error. When a group's transaction fails as a
  // whole, its callers get the storage error and no record is written.

  // Writes a REFUSED record for `refusal` as a command, then calls `done`
  // with the outcome of that write (already logged when it failed), on the
  // writer thread or, once stopped, on the calling thread.
  void RecordRefusal(Refusal refusal, std::function<void(const absl::Status&)> done);

  // Operator role; audited. Schedules a FAILED, ABANDONED or RETRY_SCHEDULED
  // run again now with a fresh attempt budget (HookService.RetryHookRun).
  // FAILED_PRECONDITION for a run in another state or whose plugin is no
  // longer enabled; NOT_FOUND for an unknown id.
  void RetryHookRun(const Actor& actor, const posd::v1::RetryHookRunRequest& request,
                    Callback<posd::v1::HookRun> done);

  // Called on the writer thread after every commit that added or rescheduled
  // hook runs; must be quick (posd passes OutboxRunner::Wake). Null: none.
  void SetHookRunsListener(std::function<void()> listener);
  int hook_max_attempts() const { return hook_max_attempts_; }

  // hooks::HookRunStore. Writes are commands (they block until committed);
  // reads use reader connections.
  absl::StatusOr<int> RecoverInterrupted(std::chrono::system_clock::time_point now) override;
  absl::StatusOr<std::vector<hooks::HookRun>> ClaimDueRuns(std::chrono::system_clock::time_point now,
                                                           int limit) override;
  absl::Status RecordSuccess(std::string_view run_id,
                             std::chrono::system_clock::time_point now) override;
  absl::Status RecordFailure(std::string_view run_id, const hooks::HookRunFailure& failure,
                             std::chrono::system_clock::time_point now) override;
  absl::StatusOr<std::optional<std::chrono::system_clock::time_point>> NextDueAt() override;
  absl::StatusOr<hooks::HookRunPage> ListRuns(const hooks::HookRunFilter& filter) override;
  absl::StatusOr<hooks::HookRun> GetRun(std::string_view run_id) override;
  absl::StatusOr<hooks::HookRun> RetryRun(std::string_view run_id,
                                          std::chrono::system_clock::time_point now) override;

  // WriteRunner: arbitrary work as one command of a group (for the request
  // journal of other services). Blocks until committed.
  absl::Status RunWrite(const std::function<absl::Status(store::Database&)>& work) override;

  // DeviceEvents: queued as commands.
  void OnProgress(const TransactionProgress& progress) override;
  void OnResult(const TransactionResult& result) override;
  void OnStatusReply(const StatusReply& reply) override;
  void OnLinkLost(std::string_view device_id, std::string_view reason) override;
  void OnDeviceReady(std::string_view device_id) override;

  // Reads on reader connections; never wait for the writer.
  Queries& queries() { return *queries_; }
  EventBroadcaster& broadcaster() { return broadcaster_; }
  EngineStats stats() const;

 private:
  struct Tx;
  struct Command {
    std::string name;
    std::function<absl::Status(Tx&)> run;
    std::function<void(const absl::Status&)> done;
    // A terminal's report: queued again, not dropped, when the group's
    // transaction fails as a whole.
    bool retry_until_committed = false;
    // Audited commands: what to record as REFUSED when `run` fails.
    std::optional<AuditEntry> audit_refusal = std::nullopt;
  };

  explicit Engine(const EngineOptions& options);
  template <typename T>
  void Submit(std::string name, std::function<absl::StatusOr<T>(Tx&)> run, Callback<T> done,
              std::optional<AuditEntry> audit_refusal = std::nullopt);
  // Submit, and wait for the commit.
  template <typename T>
  absl::StatusOr<T> SubmitAndWait(std::string name, std::function<absl::StatusOr<T>(Tx&)> run);
  void Enqueue(Command command);
  // Writer thread only: queues `command` even while stopping (the writer
  // drains the queue before it returns).
  void EnqueueFromWriter(Command command);
  // Queues a command that appends `refused`, then calls `then` with its
  // outcome. `from_writer`: called on the writer thread.
  void AppendRefusal(AuditEntry refused, std::function<void(const absl::Status&)> then,
                     bool from_writer);
  // Queues a DeviceEvents report (retry_until_committed).
  void EnqueueReport(std::string name, std::function<absl::Status(Tx&)> run);
  // Keeps `commands` of a failed group for another attempt after a pause.
  void KeepForRetry(std::vector<Command> commands, const absl::Status& why);
  void WriterLoop();
  void RunGroup(std::vector<Command>& group);

  // Command bodies (writer thread, inside the group transaction).
  absl::StatusOr<posd::v1::Order> DoCreateOrder(Tx& tx, const Actor& actor,
                                                const posd::v1::CreateOrderRequest& request);
  absl::StatusOr<posd::v1::Order> DoPlaceOrder(Tx& tx, const posd::v1::PlaceOrderRequest& request);
  absl::StatusOr<posd::v1::Order> DoCancelOrder(Tx& tx, const Actor& actor,
                                                const posd::v1::CancelOrderRequest& request);
  absl::StatusOr<posd::v1::Payment> DoCreatePayment(Tx& tx,
                                                    const posd::v1::CreatePaymentRequest& request);
  absl::StatusOr<posd::v1::Payment> DoCancelPayment(Tx& tx, const Actor& actor,
                                                    const posd::v1::CancelPaymentRequest& request);
  absl::StatusOr<posd::v1::Refund> DoRefundPayment(Tx& tx, const Actor& actor,
                                                   const posd::v1::RefundPaymentRequest& request);
  absl::StatusOr<posd::v1::Payment> DoResolvePayment(
      Tx& tx, const Actor& actor, const posd::v1::ResolvePaymentRequest& request);
  absl::StatusOr<posd::v1::Refund> DoResolveRefund(Tx& tx, const Actor& actor,
                                                   const posd::v1::ResolveRefundRequest& request);
  absl::Status DoProgress(Tx& tx, const TransactionProgress& progress);
  absl::Status DoResult(Tx& tx, const TransactionResult& result, bool from_status_query);
  absl::Status DoStatusReply(Tx& tx, const StatusReply& reply);
  absl::Status DoLinkLost(Tx& tx, const std::string& device_id, const std::string& reason);
  absl::Status DoDeviceReady(Tx& tx, const std::string& device_id);
  absl::Status DoSendFailed(Tx& tx, const std::string& transaction_id, const std::string& reason);
  absl::Status DoRecover(Tx& tx);
  absl::StatusOr<std::vector<std::string>> CancelsToResend(
      Tx& tx, const std::vector<std::string>& payment_ids);

  // Shared steps.
  absl::StatusOr<posd::v1::Payment> MovePayment(Tx& tx, posd::v1::Payment payment,
                                                core::PaymentEvent event);
  absl::Status SettleRefund(Tx& tx, posd::v1::Refund refund, posd::v1::RefundStatus status);
  absl::Status AfterPaymentOutcome(Tx& tx, const posd::v1::Payment& payment);
  absl::Status SaveOrder(Tx& tx, posd::v1::Order order);
  absl::Status SavePayment(Tx& tx, posd::v1::Payment& payment);
  absl::Status SaveRefund(Tx& tx, posd::v1::Refund& refund);
  absl::StatusOr<uint64_t> AppendEvent(Tx& tx, posd::v1::Event event, std::string_view subject);
  // The SUCCEEDED record of an audited command, with its request_id.
  static absl::Status AppendCommandAudit(Tx& tx, AuditEntry entry);
  absl::Status AddAfterHooks(Tx& tx, hooks::HookPoint point, std::string_view subject_id);
  absl::StatusOr<std::string> HookSnapshot(Tx& tx, hooks::HookPoint point,
                                           std::string_view subject_id, uint64_t& trigger);
  // Writes `run`'s changes and appends its HOOK_RUN_CHANGED event.
  absl::Status SaveHookRun(Tx& tx, const hooks::HookRun& run);
  absl::StatusOr<hooks::HookRun> LoadRunForUpdate(Tx& tx, std::string_view run_id);
  absl::StatusOr<hooks::HookRun> DoRetryRun(Tx& tx, std::string_view run_id);
  absl::StatusOr<posd::v1::HookRun> DoRetryHookRun(Tx& tx, const Actor& actor,
                                                   const posd::v1::RetryHookRunRequest& request);
  // Calls the hook runs listener after the commit.
  void NotifyHookRunsAfterCommit(Tx& tx);
  void SendSale(Tx& tx, const posd::v1::Payment& payment);

  store::Store& store_;
  DevicePort& devices_;
  HookPoints* hooks_;
  const Clock& clock_;
  std::unique_ptr<core::RandomSource> owned_random_;
  std::unique_ptr<core::IdGenerator> ids_;
  const size_t max_group_size_;
  const int hook_max_attempts_;
  std::unique_ptr<Queries> queries_;
  EventBroadcaster broadcaster_;
  // Writer thread only: which transaction holds each terminal.
  TerminalReservations reservations_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Command> queue_;  // guarded by mutex_
  // Reports whose transaction failed, due again at retry_at_.
  std::vector<Command> retry_;                          // guarded by mutex_
  std::chrono::steady_clock::time_point retry_at_;      // guarded by mutex_
  std::chrono::milliseconds retry_pause_{0};            // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  EngineStats stats_;          // guarded by mutex_
  std::thread writer_;
  std::atomic<bool> attached_{false};
  std::mutex listener_mutex_;
  std::function<void()> hook_runs_listener_;  // guarded by listener_mutex_
};

}  // namespace posd::engine
