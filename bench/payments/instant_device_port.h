// A terminal fleet that approves every sale at once, so that a benchmark of
// the engine measures the engine and SQLite, not a terminal.
//
// Every sale is answered with one progress report (the terminal has it) and
// an approval, delivered from the port's own thread, never inside a
// DevicePort call (the port's contract). Refunds are approved the same way;
// status queries find nothing. Every device id is ready.
//
// Lifetime: destroy after the engine has detached (Engine::Stop).
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include "service/engine/device_port.h"

namespace posd::bench {

class InstantDevicePort final : public engine::DevicePort {
 public:
  InstantDevicePort();
  ~InstantDevicePort() override;
  InstantDevicePort(const InstantDevicePort&) = delete;
  InstantDevicePort& operator=(const InstantDevicePort&) = delete;

  void SetEvents(engine::DeviceEvents* events) override;
  absl::Status CheckReady(std::string_view device_id) override;
  absl::Status StartSale(const engine::SaleRequest& request) override;
  absl::Status StartRefund(const engine::RefundRequest& request) override;
  absl::Status Cancel(std::string_view device_id, std::string_view transaction_id) override;
  absl::Status QueryStatus(std::string_view device_id, std::string_view transaction_id) override;

 private:
  using Report =
      std::variant<engine::TransactionProgress, engine::TransactionResult, engine::StatusReply>;

  void Post(Report report);
  void Deliver();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Report> pending_;               // guarded by mutex_
  engine::DeviceEvents* events_ = nullptr;  // guarded by mutex_
  bool delivering_ = false;                 // guarded by mutex_
  bool stop_ = false;                       // guarded by mutex_
  uint64_t approvals_ = 0;                  // guarded by mutex_
  std::thread thread_;
};

}  // namespace posd::bench
