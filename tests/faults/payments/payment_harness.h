// What the payment fault tests share: simulated terminals and posd as real
// processes, a gRPC client for posd, and the check that posd's database and
// the terminals' ledgers tell the same story.
//
// Threading: a Terminal and a Posd belong to the test's main thread; a
// Client may be used from several threads at once (gRPC stubs are
// thread-safe).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger_record.pb.h"
#include "posd/v1/devices.grpc.pb.h"
#include "posd/v1/events.grpc.pb.h"
#include "posd/v1/orders.grpc.pb.h"
#include "posd/v1/payments.grpc.pb.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"

namespace posd::testing {

// One posd-termsim process on a pseudo-terminal, with its durable ledger and
// its control socket. The ledger and the link outlive restarts.
class Terminal {
 public:
  // `device_id` is posd's id for it ("t1"); files go into `dir`.
  Terminal(std::string device_id, const std::filesystem::path& dir);
  ~Terminal();

  // Starts the simulator and waits until its control socket is up. False
  // (with the reason in `error`) when it did not come up.
  bool Start(int step_ms, int slow_ms, std::string* error);
  // SIGTERM and wait.
  void Stop();

  // One line to the control socket; its one-line answer ("OK ..." or "ERR ...").
  std::string Control(const std::string& line) const;
  // Everything the terminal ever started, from its ledger.
  absl::StatusOr<std::vector<channel::ledger::LedgerTransaction>> Transactions() const;
  // Size of the ledger file in bytes (0 before it exists): it grows with
  // every Started and every Finished record.
  uintmax_t LedgerSize() const;

  const std::string& device_id() const { return device_id_; }
  const std::filesystem::path& link() const { return link_; }
  const std::filesystem::path& ledger() const { return ledger_; }
  std::string Log() const { return process_ ? process_->Stderr() : ""; }
  bool Running() { return process_ && process_->Running(); }

 private:
  std::string device_id_;
  std::filesystem::path dir_;
  std::filesystem::path link_;
  std::filesystem::path ledger_;
  std::filesystem::path control_;
  std::optional<Subprocess> process_;
  int runs_ = 0;
};

// YAML for posd's `devices:` key naming every terminal.
std::string DevicesYaml(const std::vector<const Terminal*>& terminals);

// A gRPC client of one posd instance (a fresh channel per instance, so no
// reconnect backoff from the previous one delays the first call).
class Client {
 public:
  explicit Client(const std::string& address);

  // Every call has a deadline, so a dead posd never hangs the test.
  grpc::Status CreatePayment(const posd::v1::CreatePaymentRequest& request,
                             posd::v1::Payment* payment,
                             std::chrono::milliseconds deadline = std::chrono::seconds(10));
  grpc::Status GetPayment(const std::string& id, posd::v1::Payment* payment);
  grpc::Status RefundPayment(const posd::v1::RefundPaymentRequest& request,
                             posd::v1::Refund* refund);
  grpc::Status CancelPayment(const posd::v1::CancelPaymentRequest& request,
                             posd::v1::Payment* payment);
  grpc::Status GetDevice(const std::string& id, posd::v1::Device* device);
  // An order with one line (no terminal involved), named by `request_id`.
  grpc::Status CreateOrder(const std::string& request_id, posd::v1::Order* order);
  // Every payment, all pages.
  absl::StatusOr<std::vector<posd::v1::Payment>> ListAllPayments();
  // The payments that are not final (CREATED, DISPATCHED, AUTHORIZING, IN_DOUBT).
  absl::StatusOr<std::vector<posd::v1::Payment>> ListUnfinished();
  // The whole durable event log, oldest first.
  absl::StatusOr<std::vector<posd::v1::Event>> ListAllEvents();

  // Polls until every payment and refund is final or `timeout` passes; true
  // when they are.
  bool WaitAllFinal(std::chrono::milliseconds timeout, std::string* still_open);
  // Polls until the device is READY.
  bool WaitDeviceReady(const std::string& id, std::chrono::milliseconds timeout);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<posd::v1::PaymentService::Stub> payments_;
  std::unique_ptr<posd::v1::DeviceService::Stub> devices_;
  std::unique_ptr<posd::v1::EventService::Stub> events_;
  std::unique_ptr<posd::v1::OrderService::Stub> orders_;
};

// DECLINED, CANCELED, FAILED, APPROVED and the refund states.
bool IsFinal(posd::v1::PaymentStatus status);
// SUCCEEDED, DECLINED, FAILED.
bool IsFinal(posd::v1::RefundStatus status);
// The payment and all its refunds are final.
bool IsSettled(const posd::v1::Payment& payment);

// Compares posd's payments with the terminals' ledgers and returns every
// disagreement, one line each (empty when they agree):
//  - every payment is final;
//  - every transaction id appears at most once over all ledgers, on the
//    ledger of the terminal its payment names, and finished;
//  - every ledger transaction is a posd payment (posd never sends a sale it
//    has not recorded), with the same amount and tip;
//  - a payment is APPROVED exactly when its ledger transaction is approved,
//    and then its charged amount is what the terminal charged;
//  - a payment not on any ledger was never charged (not APPROVED);
//  - the same for refunds (SUCCEEDED exactly when the terminal paid it
//    back, same amount, same original sale), and a payment's refunded
//    amount and status follow from its refunds.
std::vector<std::string> CompareWithLedgers(const std::vector<posd::v1::Payment>& payments,
                                            const std::vector<const Terminal*>& terminals);

// Compares the payments with the event log and returns every disagreement:
// the log has no gaps, and each payment's last PAYMENT_CHANGED event is the
// one it names (last_event_sequence) and shows its current status.
std::vector<std::string> CompareWithEvents(const std::vector<posd::v1::Payment>& payments,
                                           const std::vector<posd::v1::Event>& events);

// The last `lines` lines of `text`, for failure messages.
std::string Tail(const std::string& text, size_t lines = 40);

}  // namespace posd::testing
