#include "bench/payments/instant_device_port.h"

#include <utility>

namespace posd::bench {

InstantDevicePort::InstantDevicePort() : thread_([this] { Deliver(); }) {}

InstantDevicePort::~InstantDevicePort() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void InstantDevicePort::SetEvents(engine::DeviceEvents* events) {
  std::unique_lock lock(mutex_);
  // After SetEvents(nullptr) returns, no callback may be running.
  idle_.wait(lock, [this] { return !delivering_; });
  events_ = events;
}

absl::Status InstantDevicePort::CheckReady(std::string_view) { return absl::OkStatus(); }

absl::Status InstantDevicePort::StartSale(const engine::SaleRequest& request) {
  Post(engine::TransactionProgress{.device_id = request.device_id,
                                   .transaction_id = request.transaction_id,
                                   .stage = engine::TerminalStage::kProcessing,
                                   .display_message = "Processing"});
  uint64_t number = 0;
  {
    const std::lock_guard lock(mutex_);
    number = ++approvals_;
  }
  Post(engine::TransactionResult{.device_id = request.device_id,
                                 .transaction_id = request.transaction_id,
                                 .outcome = engine::TransactionOutcome::kApproved,
                                 .amount_minor = request.amount_minor,
                                 .tip_minor = request.tip_minor,
                                 .currency = request.currency,
                                 .reported_transaction_id = request.transaction_id,
                                 .card_brand = "VISA",
                                 .masked_pan = "411111******1111",
                                 .approval_code = "BENCH1",
                                 .terminal_reference = "T" + std::to_string(number)});
  return absl::OkStatus();
}

absl::Status InstantDevicePort::StartRefund(const engine::RefundRequest& request) {
  Post(engine::TransactionResult{.device_id = request.device_id,
                                 .transaction_id = request.transaction_id,
                                 .outcome = engine::TransactionOutcome::kApproved,
                                 .amount_minor = request.amount_minor,
                                 .tip_minor = 0,
                                 .currency = request.currency,
                                 .reported_transaction_id = request.transaction_id});
  return absl::OkStatus();
}

absl::Status InstantDevicePort::Cancel(std::string_view, std::string_view) {
  return absl::OkStatus();  // everything is approved before a cancel could arrive
}

absl::Status InstantDevicePort::QueryStatus(std::string_view device_id,
                                            std::string_view transaction_id) {
  Post(engine::StatusReply{.device_id = std::string(device_id),
                           .transaction_id = std::string(transaction_id),
                           .kind = engine::StatusReplyKind::kNotFound});
  return absl::OkStatus();
}

void InstantDevicePort::Post(Report report) {
  {
    const std::lock_guard lock(mutex_);
    pending_.push_back(std::move(report));
  }
  wake_.notify_one();
}

void InstantDevicePort::Deliver() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    if (stop_) return;
    Report report = std::move(pending_.front());
    pending_.pop_front();
    engine::DeviceEvents* events = events_;
    if (events == nullptr) continue;
    delivering_ = true;
    lock.unlock();
    // The engine only queues a command here and returns.
    if (auto* progress = std::get_if<engine::TransactionProgress>(&report)) {
      events->OnProgress(*progress);
    } else if (auto* result = std::get_if<engine::TransactionResult>(&report)) {
      events->OnResult(*result);
    } else {
      events->OnStatusReply(std::get<engine::StatusReply>(report));
    }
    lock.lock();
    delivering_ = false;
    idle_.notify_all();
  }
}

}  // namespace posd::bench
