// The engine's view of payment terminals: a port (DESIGN.md, "Parts").
//
// The engine asks a terminal to do something through DevicePort and hears
// back through DeviceEvents, which the engine implements. service/devices
// implements DevicePort over the terminal protocol; tests use an in-memory
// fake. Nothing here knows about transports, frames or sessions.
//
// Transactions are named by the engine: a payment's id is the transaction id
// of its sale, a refund's id the transaction id of its refund. A terminal
// remembers the results of the transactions it processed by that id, so
// sending the same request twice never charges twice, and a status query by
// id says what became of it.
//
// Threading: every DevicePort method may be called from any thread, must not
// block on the terminal (it hands the request over and returns), and must
// not call back into DeviceEvents before it returns. DeviceEvents methods may
// be called from any thread (typically the devices' io_context thread); the
// engine only queues them as commands and returns at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posd::engine {

// What a terminal is doing with the customer (posd.v1.TerminalStage).
enum class TerminalStage {
  kUnspecified,
  kWaitingForCard,
  kReadingCard,
  kPinEntry,
  kProcessing,
  kApprovedShown,
  kDeclinedShown,
};

struct SaleRequest {
  std::string device_id = {};
  std::string transaction_id = {};  // the payment id
  int64_t amount_minor = 0;    // > 0
  int64_t tip_minor = 0;       // >= 0, charged on top of amount
  std::string currency = {};        // ISO 4217, e.g. "EUR"
};

struct RefundRequest {
  std::string device_id = {};
  std::string transaction_id = {};           // the refund id
  std::string original_transaction_id = {};  // the payment id
  std::string original_terminal_reference = {};
  int64_t amount_minor = 0;  // > 0
  std::string currency = {};
};

enum class TransactionOutcome {
  kApproved,  // charged (sale) or paid out (refund)
  kDeclined,  // refused by card, issuer or terminal rules; nothing moved
  kCanceled,  // aborted on request or by the customer before any charge
  kFailed,    // the terminal could not process it; nothing moved
};

// The terminal's final word on one transaction.
struct TransactionResult {
  std::string device_id = {};
  std::string transaction_id = {};
  TransactionOutcome outcome = TransactionOutcome::kFailed;
  // For kApproved, as the terminal reported them; the engine checks them
  // against the request (core/approval_check.h) before anything counts as
  // charged. The approved amount before tip, the tip, their currency, and the
  // transaction id the result itself names (a port must not replace it with
  // the one it expected: a result that names another transaction is a
  // mismatch the engine has to see).
  int64_t amount_minor = 0;
  int64_t tip_minor = 0;
  std::string currency = {};
  std::string reported_transaction_id = {};
  // The terminal declared that it may approve less than asked
  // (CAPABILITY_PARTIAL_APPROVAL).
  bool partial_approval_declared = false;
  std::string card_brand = {};          // "VISA", ...
  std::string masked_pan = {};          // at most first 6 and last 4 digits; validated by the engine
  std::string approval_code = {};
  std::string terminal_reference = {};
  std::string decline_code = {};        // issuer response code for kDeclined
  std::string message = {};             // short English explanation for the operator
};

struct TransactionProgress {
  std::string device_id = {};
  std::string transaction_id = {};
  TerminalStage stage = TerminalStage::kUnspecified;
  std::string display_message = {};
};

enum class StatusReplyKind {
  kProcessed,   // the terminal finished it: `result` holds the outcome
  kInProgress,  // the terminal is still working on it; a result will follow
  kNotFound,    // the terminal never processed it (and now never will)
};

struct StatusReply {
  std::string device_id = {};
  std::string transaction_id = {};
  StatusReplyKind kind = StatusReplyKind::kNotFound;
  TransactionResult result = {};  // for kProcessed
};

// Implemented by the engine. Every method queues a command and returns at
// once; it is safe to call from any thread, also while the engine stops
// (calls after Engine::Stop are dropped).
class DeviceEvents {
 public:
  virtual ~DeviceEvents() = default;

  // The terminal reports progress. The first progress of a transaction also
  // tells the engine that the terminal has the request (AUTHORIZING).
  virtual void OnProgress(const TransactionProgress& progress) = 0;
  // The terminal's result for a sale or refund it was sent.
  virtual void OnResult(const TransactionResult& result) = 0;
  // The answer to QueryStatus.
  virtual void OnStatusReply(const StatusReply& reply) = 0;
  // The link to `device_id` went down; whatever was outstanding on it may or
  // may not have been processed.
  virtual void OnLinkLost(std::string_view device_id, std::string_view reason) = 0;
  // `device_id` is connected and can answer status queries (after start-up or
  // a reconnect). The engine then queries what it is in doubt about.
  virtual void OnDeviceReady(std::string_view device_id) = 0;
};

// Implemented by service/devices (and by fakes in tests).
//
// Return values only report refusals known before anything was sent: a non-OK
// status guarantees that no byte of this request left posd (so the engine
// may fail the transaction). An OK status means the request was handed to the
// terminal's link; its outcome arrives through DeviceEvents.
class DevicePort {
 public:
  virtual ~DevicePort() = default;

  // Sets where results go; nullptr detaches. After SetEvents(nullptr)
  // returns, no DeviceEvents method is running or will be called. The engine
  // attaches itself when it starts and detaches when it stops.
  virtual void SetEvents(DeviceEvents* events) = 0;

  // Whether a new transaction may start on `device_id` now. NOT_FOUND for a
  // device posd does not know; FAILED_PRECONDITION when it is known but not
  // ready (disconnected, busy, fault). Checked before anything is recorded.
  virtual absl::Status CheckReady(std::string_view device_id) = 0;

  virtual absl::Status StartSale(const SaleRequest& request) = 0;
  virtual absl::Status StartRefund(const RefundRequest& request) = 0;
  // Asks the terminal to abort `transaction_id`; it answers with a result
  // (kCanceled, or kApproved when the card was already charged).
  virtual absl::Status Cancel(std::string_view device_id, std::string_view transaction_id) = 0;
  // Asks what became of `transaction_id`; the answer arrives as OnStatusReply.
  virtual absl::Status QueryStatus(std::string_view device_id,
                                   std::string_view transaction_id) = 0;
};

}  // namespace posd::engine
