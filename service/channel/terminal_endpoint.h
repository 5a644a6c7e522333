// The terminal end of the application protocol, as posd-termsim (and tests)
// run it: answers the handshake, refuses everything before it, runs one Sale
// or Refund at a time through its stages with Progress messages, and makes
// every transaction exactly-once with a ResultLedger: a transaction is
// recorded (fdatasync) before it starts and its outcome before the Result is
// sent, so a repeated request, a StatusQuery or a restart after a crash
// always finds the remembered Result and never charges twice.
//
// What the card holder and the issuer do (approve, decline, PIN, slow,
// cancel) and the faults to play (stay silent, halt after charging, ignore
// heartbeats) come from TerminalEndpointHooks, so this class holds protocol
// logic only.
//
// "Volatile memory" (the session with posd, the running transaction, the
// outbox of Results to resend) lives in this object; the ledger is the only
// durable part. Destroying the endpoint and creating a new one over the same
// ledger is a power cycle: new epoch, a transaction cut short is recorded as
// ERROR (nothing moved) at the next Create.
//
// Threading and lifetime: confined to the event-loop thread of the
// transport and timers; transport, timers, clock, ledger and hooks must
// outlive the endpoint. Hooks run synchronously on that thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/channel/envelope_codec.h"
#include "service/channel/message_transport.h"
#include "service/channel/result_ledger.h"
#include "service/channel/timer.h"
#include "service/common/clock.h"

namespace posd::channel {

struct TerminalEndpointOptions {
  // 0 draws a random non-zero epoch (a real boot does).
  uint64_t session_epoch = 0;
  std::string device_id = "termsim-1";
  std::string model = "posd termsim";
  std::string firmware_version = "1.0";
  std::string serial_number = "SIM0001";
  // Empty means any currency.
  std::vector<std::string> currency_codes;
  // Time each stage of a transaction takes (card presented, read, PIN, ...).
  Duration step_delay = std::chrono::milliseconds(300);
  // Results kept in memory to resend after a reconnect (Hello names the last
  // message posd processed).
  size_t outbox_limit = 64;
};

// What happens to one transaction, decided when it starts.
struct TransactionPlan {
  link::v1::Outcome outcome = link::v1::OUTCOME_APPROVED;  // APPROVED, DECLINED or ERROR
  bool pin_entry = false;
  // Extra time in PROCESSING (a slow acquirer).
  Duration extra_processing = Duration::zero();
  // The customer presses cancel while the terminal waits for the card.
  bool customer_cancels = false;
  std::string reason_code;  // DECLINED / ERROR
  std::string reason_text;
  std::string card_brand = "VISA";
  // Already masked: a simulator never holds a full card number.
  std::string masked_pan = "411111******1111";
};

// What the endpoint does after it durably recorded an outcome.
enum class AfterRecord {
  kAnswer,      // send the Result (normal)
  kStaySilent,  // send nothing: "approved but never answered"
  kHalt,        // stop everything at once: the process crashes or loses power
};

class TerminalEndpointHooks {
 public:
  virtual ~TerminalEndpointHooks() = default;
  virtual TransactionPlan Plan(const ledger::Started& request) {
    (void)request;
    return {};
  }
  virtual AfterRecord AfterRecorded(const link::v1::Result& result) {
    (void)result;
    return AfterRecord::kAnswer;
  }
  virtual bool AnswerHeartbeat() { return true; }
  // A transaction ended (after the ledger write); for the simulator's log.
  virtual void OnFinished(const ledger::Started& request, const link::v1::Result& result) {
    (void)request;
    (void)result;
  }
};

class TerminalEndpoint final : private MessageTransportHandler {
 public:
  // Completes transactions the previous incarnation left unfinished (as
  // ERROR: they never reached the charge). Errors of the ledger pass through.
  static absl::StatusOr<std::unique_ptr<TerminalEndpoint>> Create(
      const TerminalEndpointOptions& options, MessageTransport& transport, TimerFactory& timers,
      const Clock& clock, ResultLedger& ledger, TerminalEndpointHooks& hooks);
  ~TerminalEndpoint() override;
  TerminalEndpoint(const TerminalEndpoint&) = delete;
  TerminalEndpoint& operator=(const TerminalEndpoint&) = delete;

  // Starts the transport (the handshake is posd's move).
  void Start();
  // Stops answering and cancels timers (a halt); does not close the transport.
  void Halt();

  uint64_t session_epoch() const { return epoch_; }
  bool in_session() const { return in_session_; }
  bool halted() const { return halted_; }
  // The transaction running now, or empty.
  std::string running_transaction() const { return running_ ? running_->request.transaction_id() : ""; }

 private:
  struct Running {
    ledger::Started request;
    TransactionPlan plan;
    link::v1::ProgressStage stage = link::v1::PROGRESS_STAGE_UNSPECIFIED;
    uint64_t correlation_id = 0;  // latest Sale/Refund/StatusQuery about it
    bool cancel_requested = false;
  };

  TerminalEndpoint(const TerminalEndpointOptions& options, MessageTransport& transport,
                   std::unique_ptr<Timer> timer, const Clock& clock, ResultLedger& ledger,
                   TerminalEndpointHooks& hooks);

  void OnTransportUp() override;
  void OnTransportDown(TransportDownReason reason, std::string_view detail) override;
  void OnMessage(std::span<const uint8_t> message) override;

  void Send(link::v1::Envelope& envelope);
  void Reply(uint64_t correlation_id, link::v1::Envelope& envelope);
  void SendError(uint64_t correlation_id, link::v1::ErrorCode code, std::string_view detail,
                 std::string_view transaction_id = {}, std::string_view field = {});
  void HandleHello(const link::v1::Envelope& envelope);
  void HandleTransaction(const link::v1::Envelope& envelope);
  void HandleStatusQuery(const link::v1::Envelope& envelope, bool cancel);
  void SendProgress(link::v1::ProgressStage stage, std::string_view text);
  void Advance();
  void Finish(link::v1::Outcome outcome, std::string reason_code, std::string reason_text);
  link::v1::Result MakeResult(link::v1::Outcome outcome, std::string reason_code,
                              std::string reason_text) const;

  const TerminalEndpointOptions options_;
  MessageTransport& transport_;
  std::unique_ptr<Timer> timer_;
  const Clock& clock_;
  ResultLedger& ledger_;
  TerminalEndpointHooks& hooks_;
  const TimePoint booted_at_;
  uint64_t epoch_;

  uint64_t next_message_id_ = 1;
  bool in_session_ = false;
  bool halted_ = false;
  uint64_t posd_epoch_ = 0;
  uint64_t last_processed_posd_id_ = 0;
  std::optional<Running> running_;
  std::deque<link::v1::Envelope> outbox_;  // Results sent, for resending
};

}  // namespace posd::channel
