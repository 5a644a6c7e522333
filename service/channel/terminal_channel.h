// The controller (posd) end of the terminal application protocol
// (docs/protocol.md, "Application layer"): handshake, message ids and
// correlation, per-request timeouts, heartbeats, and the recovery that makes
// every transaction's outcome known exactly once: after any reconnect or
// terminal restart it resends requests the terminal never acknowledged (with
// their original message ids) and sends StatusQuery for everything else in
// flight, until each transaction has an outcome.
//
// It knows nothing of serial lines or sockets: it talks to a
// MessageTransport, tells time with a Clock and waits with a Timer, so the
// same code runs over SerialLinkTransport, a future WebSocket transport, and
// an in-memory transport on virtual time in tests.
//
// Outcomes. Every transaction accepted by StartSale / StartRefund /
// QueryTransaction ends with exactly one OnOutcome call, however long that
// takes (the channel keeps reconnecting and asking). Meanwhile OnInDoubt tells
// the user when the outcome is not known right now (payment state IN_DOUBT).
// The channel holds no durable state: after posd restarts, the engine calls
// QueryTransaction for each payment it left in doubt.
//
// Threading: confined to the thread of the event loop that runs the
// transport and the timers (one Asio io_context, or a test's virtual loop).
// Every method must be called there; every listener callback runs there,
// synchronously from a transport or timer event, never from inside a method
// of this class except Start. Listener callbacks may call any method of the
// channel, including Close, but must not destroy it.
//
// Lifetime: the transport, timer factory, clock and listener must outlive
// the channel. Destroying the channel closes it (and the transport).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/channel/envelope_codec.h"
#include "service/channel/message_transport.h"
#include "service/channel/timer.h"
#include "service/common/clock.h"

namespace posd::channel {

// Defaults are the protocol's (docs/protocol.md, "Timeouts").
struct TerminalChannelOptions {
  // posd's application session epoch; 0 draws a random non-zero one.
  uint64_t session_epoch = 0;
  // Hello.device_id (posd's instance id) and Hello.firmware_version.
  std::string device_id = "posd";
  std::string firmware_version;
  // When set, a terminal whose HelloAck names another device_id is refused
  // before anything is sent to it (the handshake fails with a reason that
  // starts with kWrongTerminalPrefix): a WebSocket device reached at a stale
  // address now used by another terminal must not take its payments.
  std::string expected_terminal_id;
  // HelloAck within this after Hello, else the transport is reset and the
  // next Hello waits a backoff doubling from initial to max.
  Duration handshake_timeout = std::chrono::seconds(5);
  Duration handshake_backoff_initial = std::chrono::seconds(1);
  Duration handshake_backoff_max = std::chrono::seconds(30);
  // Heartbeat period; after heartbeat_max_missed unanswered in a row the
  // terminal is declared lost and the transport reset.
  Duration heartbeat_interval = std::chrono::seconds(2);
  uint32_t heartbeat_max_missed = 3;
  // First answer to Sale or Refund.
  Duration accept_timeout = std::chrono::seconds(5);
  // Result after the last message about a transaction (Progress extends it).
  Duration transaction_timeout = std::chrono::seconds(120);
  // StatusReply to StatusQuery or Cancel.
  Duration query_timeout = std::chrono::seconds(5);
  // While linked, an unanswered StatusQuery is asked again after this.
  Duration query_retry_interval = std::chrono::seconds(10);
};

// How a refused HelloAck's loss reason starts (expected_terminal_id).
inline constexpr std::string_view kWrongTerminalPrefix = "wrong terminal";

// INVALID_ARGUMENT naming the first bad field.
absl::Status ValidateTerminalChannelOptions(const TerminalChannelOptions& options);

// The terminal as its HelloAck described it.
struct TerminalIdentity {
  std::string device_id;
  std::string model;
  std::string firmware_version;
  uint64_t session_epoch = 0;
  uint32_t protocol_version = 0;
};

// How a transaction ended, as far as the terminal says.
struct TransactionOutcome {
  enum class Kind {
    // The terminal's Result (live, from a StatusReply or for a duplicate):
    // result.outcome says whether money moved.
    kResult,
    // The terminal has no record of it (StatusReply NOT_FOUND): it never
    // started; nothing moved.
    kNotFound,
    // The terminal refused the request with an Error: it never started;
    // nothing moved. `error` says why (BUSY, UNSUPPORTED_CURRENCY, ...).
    kRefused,
    // Canceled by Cancel() before the request was ever sent: nothing moved.
    kCanceledBeforeSending,
  };
  std::string transaction_id;
  Kind kind = Kind::kResult;
  link::v1::Result result;  // kResult; masked_pan sanitized
  link::v1::Error error;    // kRefused
};
std::string_view OutcomeKindName(TransactionOutcome::Kind kind);

// What the channel tells its user. Runs on the event-loop thread.
class TerminalChannelListener {
 public:
  virtual ~TerminalChannelListener() = default;
  // Handshake complete: requests flow. `terminal_restarted`: its epoch
  // differs from the previous handshake (it lost its volatile state).
  virtual void OnTerminalReady(const TerminalIdentity& terminal, bool terminal_restarted) {
    (void)terminal;
    (void)terminal_restarted;
  }
  // The terminal became unreachable (after OnTerminalReady): link down,
  // heartbeats lost. The channel keeps reconnecting on its own.
  virtual void OnTerminalLost(std::string_view reason) { (void)reason; }
  // A running transaction advanced (also from StatusReply IN_PROGRESS).
  virtual void OnProgress(const link::v1::Progress& progress) { (void)progress; }
  // A status query about `transaction_id` was answered IN_PROGRESS: the
  // terminal is still working on it (with or without a stage to report) and
  // takes no other transaction until its OnOutcome. Also for transactions
  // adopted with QueryTransaction, which no request of this channel started.
  virtual void OnInProgress(std::string_view transaction_id) { (void)transaction_id; }
  // The outcome of a transaction right now is unknown: the link dropped
  // after its request was sent, or a deadline passed unanswered. At most
  // once per transaction until its OnOutcome.
  virtual void OnInDoubt(std::string_view transaction_id, std::string_view reason) {
    (void)transaction_id;
    (void)reason;
  }
  // The final word on a transaction; exactly once per transaction.
  virtual void OnOutcome(const TransactionOutcome& outcome) = 0;
  // The terminal's identity and capabilities (after every handshake).
  virtual void OnDeviceInfo(const link::v1::DeviceInfo& info) { (void)info; }
};

class TerminalChannel final : private MessageTransportHandler {
 public:
  // INVALID_ARGUMENT for invalid options. Nothing happens before Start.
  static absl::StatusOr<std::unique_ptr<TerminalChannel>> Create(
      const TerminalChannelOptions& options, MessageTransport& transport,
      TimerFactory& timers, const Clock& clock, TerminalChannelListener& listener);
  ~TerminalChannel() override;
  TerminalChannel(const TerminalChannel&) = delete;
  TerminalChannel& operator=(const TerminalChannel&) = delete;

  // Starts the transport; the handshake follows each time it comes up.
  void Start();
  // Closes the transport. Transactions without an outcome stay unknown (no
  // callback): the caller treats them as in doubt. Idempotent.
  void Close();

  // Starts a transaction. Accepted while the terminal is not ready (sent
  // after the next handshake). Sale.timeout_ms is set from the options when
  // 0. INVALID_ARGUMENT (bad field), ALREADY_EXISTS (transaction_id already
  // used with this channel), FAILED_PRECONDITION (closed).
  absl::Status StartSale(link::v1::Sale sale);
  absl::Status StartRefund(link::v1::Refund refund);

  // Asks the terminal to abort a running transaction. NOT_FOUND if the
  // transaction is not in flight here. The outcome arrives as usual (often
  // CANCELED, APPROVED if too late).
  absl::Status Cancel(std::string_view transaction_id);

  // Adopts a transaction whose outcome is unknown (e.g. from before posd
  // restarted): the channel asks the terminal and reports OnOutcome.
  // Never starts a transaction. ALREADY_EXISTS if already in flight here.
  absl::Status QueryTransaction(std::string_view transaction_id);

  // Asks for DeviceInfo now (also done after every handshake).
  // FAILED_PRECONDITION unless ready.
  absl::Status RequestDeviceInfo();

  // Lets the next handshake start without waiting for the backoff of earlier
  // failures (the transport now points at a freshly announced address).
  void ResetHandshakeBackoff();

  bool ready() const { return phase_ == Phase::kReady; }
  const std::optional<TerminalIdentity>& terminal() const { return terminal_; }
  uint64_t session_epoch() const { return epoch_; }
  // Transactions without an outcome yet.
  size_t in_flight() const { return txns_.size(); }
  bool IsInFlight(std::string_view transaction_id) const;

 private:
  enum class Phase { kDown, kHandshaking, kReady, kClosed };
  enum class Deadline { kNone, kAccept, kTransaction, kQuery, kQueryRetry };
  struct Txn {
    std::string id;
    link::v1::Envelope request;  // Sale or Refund; empty for adopted ones
    bool query_only = false;
    bool sent_ever = false;
    bool accepted = false;  // the terminal answered about it at least once
    bool cancel_requested = false;
    bool in_doubt_reported = false;
    Deadline deadline_kind = Deadline::kNone;
    TimePoint deadline{};
  };
  enum class Purpose { kHello, kTransaction, kQuery, kCancel, kHeartbeat, kDeviceInfo };
  struct Outstanding {
    Purpose purpose = Purpose::kQuery;
    std::string transaction_id;
  };

  TerminalChannel(const TerminalChannelOptions& options, MessageTransport& transport,
                  std::unique_ptr<Timer> timer, const Clock& clock,
                  TerminalChannelListener& listener);

  // MessageTransportHandler.
  void OnTransportUp() override;
  void OnTransportDown(TransportDownReason reason, std::string_view detail) override;
  void OnMessage(std::span<const uint8_t> message) override;

  void OnTimer();
  void Reschedule();
  uint64_t NextMessageId() { return next_message_id_++; }
  // Sends `envelope` (message_id must be set). False if the transport refused.
  bool SendEnvelope(link::v1::Envelope& envelope, Purpose purpose, std::string_view txn);
  void SendHello();
  void FailHandshake(std::string_view why);
  void LoseTerminal(std::string_view why, bool reset_transport);
  void Recover(const link::v1::HelloAck& ack);
  void SendRequest(Txn& txn);
  void SendQuery(Txn& txn);
  void SendCancel(Txn& txn);
  void MarkInDoubt(Txn& txn, std::string_view reason);
  void Resolve(std::string transaction_id, TransactionOutcome outcome);
  absl::Status AddTransaction(Txn txn);

  void HandleHelloAck(const link::v1::Envelope& envelope);
  void HandleProgress(const link::v1::Progress& progress);
  // `correlation_id`: the envelope's (0 for a Result inside a StatusReply).
  void HandleResult(const link::v1::Result& result, uint64_t correlation_id = 0);
  void HandleStatusReply(const link::v1::StatusReply& reply);
  void HandleError(const link::v1::Envelope& envelope);

  const TerminalChannelOptions options_;
  MessageTransport& transport_;
  std::unique_ptr<Timer> timer_;
  const Clock& clock_;
  TerminalChannelListener& listener_;
  const TimePoint started_at_;
  uint64_t epoch_;

  Phase phase_ = Phase::kDown;
  uint64_t next_message_id_ = 1;
  // The terminal's epoch at the last handshake and the highest message_id of
  // that epoch processed here (Hello.peer_epoch, last_processed_message_id).
  uint64_t terminal_epoch_ = 0;
  uint64_t last_processed_terminal_id_ = 0;
  std::optional<TerminalIdentity> terminal_;

  uint64_t hello_id_ = 0;
  bool hello_sent_ = false;
  TimePoint handshake_deadline_{};
  Duration backoff_;
  TimePoint hello_not_before_{};

  TimePoint heartbeat_due_{};
  uint64_t heartbeat_outstanding_ = 0;
  uint32_t heartbeats_missed_ = 0;

  std::map<std::string, Txn, std::less<>> txns_;
  std::set<std::string, std::less<>> resolved_;
  std::map<uint64_t, Outstanding> outstanding_;
};

}  // namespace posd::channel
