// An in-memory payment terminal fleet behind the engine's DevicePort, for
// engine tests.
//
// Each transaction the fake receives is kept in a ledger that survives
// engines (like a real terminal's memory survives a posd crash): what it
// received, and how it ended. Tests drive it: Progress, Complete, LoseLink,
// Ready; or set a device to answer every sale at once (auto_outcome). Status
// queries are answered from the ledger (processed / in progress / not
// found). `drop_next_request` makes the next request vanish on the wire
// (the terminal never sees it), `drop_next_cancel` the next abort. `on_sale` runs inside StartSale, so a test
// can look at the database at the moment the terminal is asked.
//
// Callbacks reach the engine from the fake's own delivery thread, never
// inside a DevicePort call (the port's contract). Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "service/engine/device_port.h"

namespace posd::engine::testing {

class FakeDevicePort final : public DevicePort {
 public:
  struct Entry {
    std::string device_id;
    bool is_refund = false;
    int64_t amount_minor = 0;
    int64_t tip_minor = 0;
    std::optional<TransactionOutcome> outcome = {};  // absent while in progress
    std::string currency = {};
  };

  FakeDevicePort() : thread_([this] { Deliver(); }) {}
  ~FakeDevicePort() override {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void AddDevice(const std::string& id, bool ready = true) {
    const std::lock_guard lock(mutex_);
    ready_[id] = ready;
  }
  // Answer every new sale on `id` with `outcome` at once (nullopt: wait for
  // the test).
  void SetAutoOutcome(const std::string& id, std::optional<TransactionOutcome> outcome) {
    const std::lock_guard lock(mutex_);
    auto_outcome_[id] = outcome;
  }
  void DropNextRequest() {
    const std::lock_guard lock(mutex_);
    drop_next_ = true;
  }
  // The next Cancel is lost on the wire: the terminal never hears it.
  void DropNextCancel() {
    const std::lock_guard lock(mutex_);
    drop_next_cancel_ = true;
  }
  std::function<void(const SaleRequest&)> on_sale;

  // The terminal reports progress on `transaction_id`.
  void Progress(const std::string& transaction_id, TerminalStage stage) {
    const std::lock_guard lock(mutex_);
    const Entry& entry = ledger_.at(transaction_id);
    Post([this, progress = TransactionProgress{entry.device_id, transaction_id, stage, "Insert card"}] {
      if (events_ != nullptr) events_->OnProgress(progress);
    });
  }
  // The terminal finishes `transaction_id`. `reachable` false: the result is
  // recorded in the terminal's ledger but never reaches posd (link down).
  void Complete(const std::string& transaction_id, TransactionOutcome outcome,
                bool reachable = true) {
    const std::lock_guard lock(mutex_);
    Entry& entry = ledger_.at(transaction_id);
    entry.outcome = outcome;
    if (reachable) Post([this, result = ResultOf(transaction_id, entry)] {
      if (events_ != nullptr) events_->OnResult(result);
    });
  }
  // The terminal answers `transaction_id` with `edit` applied to the result
  // it would send for `outcome` (a terminal that lies, or approves part).
  void CompleteEdited(const std::string& transaction_id, TransactionOutcome outcome,
                      const std::function<void(TransactionResult&)>& edit) {
    const std::lock_guard lock(mutex_);
    Entry& entry = ledger_.at(transaction_id);
    entry.outcome = outcome;
    TransactionResult result = ResultOf(transaction_id, entry);
    edit(result);
    Post([this, result] {
      if (events_ != nullptr) events_->OnResult(result);
    });
  }
  void LoseLink(const std::string& device_id) {
    const std::lock_guard lock(mutex_);
    ready_[device_id] = false;
    Post([this, device_id] {
      if (events_ != nullptr) events_->OnLinkLost(device_id, "heartbeat lost");
    });
  }
  void Ready(const std::string& device_id) {
    const std::lock_guard lock(mutex_);
    ready_[device_id] = true;
    Post([this, device_id] {
      if (events_ != nullptr) events_->OnDeviceReady(device_id);
    });
  }

  std::map<std::string, Entry> ledger() const {
    const std::lock_guard lock(mutex_);
    return ledger_;
  }
  int sales_received() const {
    const std::lock_guard lock(mutex_);
    return sales_;
  }
  int cancels_received() const {
    const std::lock_guard lock(mutex_);
    return cancels_;
  }
  int status_queries() const {
    const std::lock_guard lock(mutex_);
    return queries_;
  }
  // Blocks until everything posted so far has been delivered.
  void WaitIdle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return pending_.empty() && !delivering_; });
  }

  // DevicePort.
  void SetEvents(DeviceEvents* events) override {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return !delivering_; });
    events_ = events;
  }
  absl::Status CheckReady(std::string_view device_id) override {
    const std::lock_guard lock(mutex_);
    auto it = ready_.find(std::string(device_id));
    if (it == ready_.end()) {
      return absl::NotFoundError(std::string("no terminal named ") + std::string(device_id) +
                                 " is configured");
    }
    if (!it->second) return absl::FailedPreconditionError("terminal is not ready");
    return absl::OkStatus();
  }
  absl::Status StartSale(const SaleRequest& request) override {
    if (on_sale) on_sale(request);
    const std::lock_guard lock(mutex_);
    ++sales_;
    return Receive(request.device_id, request.transaction_id, false, request.amount_minor,
                   request.tip_minor, request.currency);
  }
  absl::Status StartRefund(const RefundRequest& request) override {
    const std::lock_guard lock(mutex_);
    return Receive(request.device_id, request.transaction_id, true, request.amount_minor, 0,
                   request.currency);
  }
  absl::Status Cancel(std::string_view, std::string_view transaction_id) override {
    const std::lock_guard lock(mutex_);
    ++cancels_;
    if (drop_next_cancel_) {
      drop_next_cancel_ = false;
      return absl::OkStatus();
    }
    auto it = ledger_.find(std::string(transaction_id));
    if (it == ledger_.end() || it->second.outcome.has_value()) return absl::OkStatus();
    it->second.outcome = TransactionOutcome::kCanceled;
    Post([this, result = ResultOf(it->first, it->second)] {
      if (events_ != nullptr) events_->OnResult(result);
    });
    return absl::OkStatus();
  }
  absl::Status QueryStatus(std::string_view device_id, std::string_view transaction_id) override {
    const std::lock_guard lock(mutex_);
    if (!ready_[std::string(device_id)]) return absl::UnavailableError("terminal unreachable");
    ++queries_;
    StatusReply reply{.device_id = std::string(device_id),
                      .transaction_id = std::string(transaction_id)};
    auto it = ledger_.find(reply.transaction_id);
    if (it == ledger_.end()) {
      reply.kind = StatusReplyKind::kNotFound;
    } else if (!it->second.outcome.has_value()) {
      reply.kind = StatusReplyKind::kInProgress;
    } else {
      reply.kind = StatusReplyKind::kProcessed;
      reply.result = ResultOf(it->first, it->second);
    }
    Post([this, reply] {
      if (events_ != nullptr) events_->OnStatusReply(reply);
    });
    return absl::OkStatus();
  }

 private:
  static TransactionResult ResultOf(const std::string& id, const Entry& entry) {
    TransactionResult result{.device_id = entry.device_id, .transaction_id = id};
    result.outcome = *entry.outcome;
    if (result.outcome == TransactionOutcome::kApproved) {
      result.card_brand = "VISA";
      result.masked_pan = "411111******1111";
      result.approval_code = "A1B2C3";
      result.terminal_reference = "T-" + id.substr(id.size() - 6);
      result.amount_minor = entry.amount_minor;
      result.tip_minor = entry.tip_minor;
      result.currency = entry.currency;
      result.reported_transaction_id = id;
    } else {
      result.message = result.outcome == TransactionOutcome::kDeclined ? "insufficient funds"
                                                                       : "terminal said no";
      result.decline_code = "51";
    }
    return result;
  }

  absl::Status Receive(const std::string& device, const std::string& id, bool refund,
                       int64_t amount, int64_t tip, const std::string& currency) {
    if (!ready_[device]) return absl::UnavailableError("terminal unreachable");
    if (drop_next_) {  // lost on the wire: the terminal never sees it
      drop_next_ = false;
      return absl::OkStatus();
    }
    if (ledger_.count(id) != 0) return absl::OkStatus();  // a resend: remembered
    Entry& entry = ledger_[id];
    entry = Entry{.device_id = device, .is_refund = refund, .amount_minor = amount,
                  .tip_minor = tip, .currency = currency};
    const auto automatic = auto_outcome_[device];
    if (automatic.has_value()) {
      entry.outcome = *automatic;
      Post([this, result = ResultOf(id, entry)] {
        if (events_ != nullptr) events_->OnResult(result);
      });
    }
    return absl::OkStatus();
  }

  void Post(std::function<void()> action) {
    pending_.push_back(std::move(action));
    wake_.notify_all();
  }

  void Deliver() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      auto action = std::move(pending_.front());
      pending_.pop_front();
      delivering_ = true;
      // Held while delivering so SetEvents(nullptr) waits for it; the
      // engine's callbacks only queue.
      lock.unlock();
      {
        const std::lock_guard deliver(deliver_mutex_);
        action();
      }
      lock.lock();
      delivering_ = false;
      idle_.notify_all();
    }
  }

  mutable std::mutex mutex_;
  std::mutex deliver_mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> pending_;
  bool delivering_ = false;
  bool stop_ = false;
  bool drop_next_ = false;
  bool drop_next_cancel_ = false;
  DeviceEvents* events_ = nullptr;
  std::map<std::string, bool> ready_;
  std::map<std::string, std::optional<TransactionOutcome>> auto_outcome_;
  std::map<std::string, Entry> ledger_;
  int sales_ = 0;
  int queries_ = 0;
  int cancels_ = 0;
  std::thread thread_;
};

}  // namespace posd::engine::testing
