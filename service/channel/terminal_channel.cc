#include "service/channel/terminal_channel.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "service/common/strings.h"

namespace posd::channel {
namespace {

uint64_t RandomEpoch() {
  std::random_device device;
  uint64_t epoch = 0;
  while (epoch == 0) epoch = (uint64_t{device()} << 32) | device();
  return epoch;
}

int64_t Millis(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

std::string_view OutcomeKindName(TransactionOutcome::Kind kind) {
  switch (kind) {
    case TransactionOutcome::Kind::kResult: return "result";
    case TransactionOutcome::Kind::kNotFound: return "not_found";
    case TransactionOutcome::Kind::kRefused: return "refused";
    case TransactionOutcome::Kind::kCanceledBeforeSending: return "canceled_before_sending";
  }
  return "unknown";
}

absl::Status ValidateTerminalChannelOptions(const TerminalChannelOptions& o) {
  auto positive = [](Duration d, std::string_view name) -> absl::Status {
    if (d <= Duration::zero()) return absl::InvalidArgumentError(StrCat(name, ": must be positive"));
    return absl::OkStatus();
  };
  for (auto [d, name] : {std::pair{o.handshake_timeout, "handshake_timeout"},
                         {o.handshake_backoff_initial, "handshake_backoff_initial"},
                         {o.handshake_backoff_max, "handshake_backoff_max"},
                         {o.heartbeat_interval, "heartbeat_interval"},
                         {o.accept_timeout, "accept_timeout"},
                         {o.transaction_timeout, "transaction_timeout"},
                         {o.query_timeout, "query_timeout"},
                         {o.query_retry_interval, "query_retry_interval"}}) {
    if (absl::Status s = positive(d, name); !s.ok()) return s;
  }
  if (o.heartbeat_max_missed == 0) {
    return absl::InvalidArgumentError("heartbeat_max_missed: must be at least 1");
  }
  if (o.handshake_backoff_max < o.handshake_backoff_initial) {
    return absl::InvalidArgumentError("handshake_backoff_max: below handshake_backoff_initial");
  }
  if (Millis(o.transaction_timeout) > int64_t{UINT32_MAX}) {
    return absl::InvalidArgumentError("transaction_timeout: does not fit Sale.timeout_ms");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TerminalChannel>> TerminalChannel::Create(
    const TerminalChannelOptions& options, MessageTransport& transport, TimerFactory& timers,
    const Clock& clock, TerminalChannelListener& listener) {
  if (absl::Status s = ValidateTerminalChannelOptions(options); !s.ok()) return s;
  return std::unique_ptr<TerminalChannel>(
      new TerminalChannel(options, transport, timers.CreateTimer(), clock, listener));
}

TerminalChannel::TerminalChannel(const TerminalChannelOptions& options,
                                 MessageTransport& transport, std::unique_ptr<Timer> timer,
                                 const Clock& clock, TerminalChannelListener& listener)
    : options_(options),
      transport_(transport),
      timer_(std::move(timer)),
      clock_(clock),
      listener_(listener),
      started_at_(clock.Now()),
      epoch_(options.session_epoch != 0 ? options.session_epoch : RandomEpoch()),
      backoff_(options.handshake_backoff_initial) {}

TerminalChannel::~TerminalChannel() { Close(); }

void TerminalChannel::Start() {
  if (phase_ != Phase::kDown) return;
  transport_.Start(this);
}

void TerminalChannel::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  timer_->Cancel();
  transport_.Close();
}

bool TerminalChannel::IsInFlight(std::string_view transaction_id) const {
  return txns_.find(transaction_id) != txns_.end();
}

// --- Commands --------------------------------------------------------------

absl::Status TerminalChannel::AddTransaction(Txn txn) {
  if (phase_ == Phase::kClosed) return absl::FailedPreconditionError("terminal channel closed");
  if (IsInFlight(txn.id) || resolved_.count(txn.id) > 0) {
    return absl::AlreadyExistsError(
        StrCat("transaction ", txn.id, " was already given to this terminal channel"));
  }
  auto [it, inserted] = txns_.emplace(txn.id, std::move(txn));
  if (phase_ == Phase::kReady) {
    if (it->second.query_only) {
      SendQuery(it->second);
    } else {
      SendRequest(it->second);
    }
    Reschedule();
  }
  return absl::OkStatus();
}

absl::Status TerminalChannel::StartSale(link::v1::Sale sale) {
  if (absl::Status s = ValidateSale(sale); !s.ok()) return s;
  if (sale.timeout_ms() == 0) {
    sale.set_timeout_ms(static_cast<uint32_t>(Millis(options_.transaction_timeout)));
  }
  Txn txn;
  txn.id = sale.transaction_id();
  *txn.request.mutable_sale() = std::move(sale);
  return AddTransaction(std::move(txn));
}

absl::Status TerminalChannel::StartRefund(link::v1::Refund refund) {
  if (absl::Status s = ValidateRefund(refund); !s.ok()) return s;
  if (refund.timeout_ms() == 0) {
    refund.set_timeout_ms(static_cast<uint32_t>(Millis(options_.transaction_timeout)));
  }
  Txn txn;
  txn.id = refund.transaction_id();
  *txn.request.mutable_refund() = std::move(refund);
  return AddTransaction(std::move(txn));
}

absl::Status TerminalChannel::QueryTransaction(std::string_view transaction_id) {
  if (absl::Status s = ValidateTransactionId(transaction_id); !s.ok()) return s;
  Txn txn;
  txn.id = std::string(transaction_id);
  txn.query_only = true;
  txn.sent_ever = true;  // it may have reached the terminal in an earlier life
  return AddTransaction(std::move(txn));
}

absl::Status TerminalChannel::Cancel(std::string_view transaction_id) {
  auto it = txns_.find(transaction_id);
  if (it == txns_.end()) {
    return absl::NotFoundError(StrCat("transaction ", transaction_id, " is not in flight"));
  }
  Txn& txn = it->second;
  if (!txn.sent_ever) {
    TransactionOutcome outcome;
    outcome.transaction_id = txn.id;
    outcome.kind = TransactionOutcome::Kind::kCanceledBeforeSending;
    Resolve(txn.id, std::move(outcome));
    return absl::OkStatus();
  }
  txn.cancel_requested = true;
  if (phase_ == Phase::kReady) {
    SendCancel(txn);
    Reschedule();
  }
  return absl::OkStatus();
}

absl::Status TerminalChannel::RequestDeviceInfo() {
  if (phase_ != Phase::kReady) return absl::FailedPreconditionError("terminal not ready");
  link::v1::Envelope envelope;
  envelope.set_message_id(NextMessageId());
  envelope.mutable_device_info_request();
  if (!SendEnvelope(envelope, Purpose::kDeviceInfo, "")) {
    return absl::UnavailableError("transport refused the message");
  }
  return absl::OkStatus();
}

// --- Sending ---------------------------------------------------------------

bool TerminalChannel::SendEnvelope(link::v1::Envelope& envelope, Purpose purpose,
                                   std::string_view txn) {
  if (envelope.sent_at_ms() == 0) {
    envelope.set_sent_at_ms(static_cast<uint64_t>(Millis(clock_.Now() - started_at_)) + 1);
  }
  outstanding_[envelope.message_id()] = Outstanding{purpose, std::string(txn)};
  absl::Status status = transport_.Send(EncodeEnvelope(envelope));
  if (!status.ok()) {
    spdlog::warn("terminal channel: {} {} not sent: {}", BodyName(envelope),
                 envelope.message_id(), status.ToString());
    return false;
  }
  return true;
}

void TerminalChannel::SendHello() {
  link::v1::Envelope envelope;
  hello_id_ = NextMessageId();
  envelope.set_message_id(hello_id_);
  link::v1::Hello* hello = envelope.mutable_hello();
  hello->set_session_epoch(epoch_);
  hello->set_protocol_version(kProtocolVersion);
  hello->set_min_protocol_version(kProtocolVersion);
  hello->set_device_id(options_.device_id);
  hello->set_model("posd");
  hello->set_firmware_version(options_.firmware_version);
  hello->set_peer_epoch(terminal_epoch_);
  hello->set_last_processed_message_id(last_processed_terminal_id_);
  hello->set_heartbeat_interval_ms(static_cast<uint32_t>(Millis(options_.heartbeat_interval)));
  hello_sent_ = true;
  handshake_deadline_ = clock_.Now() + options_.handshake_timeout;
  SendEnvelope(envelope, Purpose::kHello, "");
}

void TerminalChannel::SendRequest(Txn& txn) {
  // The first send assigns the message_id; resends keep it, so the terminal
  // can tell a resend from a new request by id as well as by transaction.
  if (txn.request.message_id() == 0) txn.request.set_message_id(NextMessageId());
  txn.sent_ever = true;
  txn.deadline_kind = Deadline::kAccept;
  txn.deadline = clock_.Now() + options_.accept_timeout;
  SendEnvelope(txn.request, Purpose::kTransaction, txn.id);
}

void TerminalChannel::SendQuery(Txn& txn) {
  link::v1::Envelope envelope;
  envelope.set_message_id(NextMessageId());
  envelope.mutable_status_query()->set_transaction_id(txn.id);
  txn.deadline_kind = Deadline::kQuery;
  txn.deadline = clock_.Now() + options_.query_timeout;
  SendEnvelope(envelope, Purpose::kQuery, txn.id);
}

void TerminalChannel::SendCancel(Txn& txn) {
  link::v1::Envelope envelope;
  envelope.set_message_id(NextMessageId());
  envelope.mutable_cancel()->set_transaction_id(txn.id);
  txn.deadline_kind = Deadline::kQuery;
  txn.deadline = clock_.Now() + options_.query_timeout;
  SendEnvelope(envelope, Purpose::kCancel, txn.id);
}

// --- Transport events ------------------------------------------------------

void TerminalChannel::OnTransportUp() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kHandshaking;
  hello_sent_ = false;
  if (clock_.Now() >= hello_not_before_) SendHello();
  Reschedule();
}

void TerminalChannel::OnTransportDown(TransportDownReason reason, std::string_view detail) {
  if (phase_ == Phase::kClosed) return;
  LoseTerminal(StrCat("transport down: ", TransportDownReasonName(reason),
                      detail.empty() ? "" : " (", detail, detail.empty() ? "" : ")"),
               /*reset_transport=*/false);
}

void TerminalChannel::LoseTerminal(std::string_view why, bool reset_transport) {
  const bool was_ready = phase_ == Phase::kReady;
  phase_ = Phase::kDown;
  hello_sent_ = false;
  heartbeat_outstanding_ = 0;
  heartbeats_missed_ = 0;
  // Replies to anything sent so far can no longer arrive (message_transport.h).
  outstanding_.clear();
  std::vector<std::string> doubtful;
  for (auto& [id, txn] : txns_) {
    txn.deadline_kind = Deadline::kNone;
    if (txn.sent_ever && !txn.in_doubt_reported) doubtful.push_back(id);
  }
  if (reset_transport) transport_.Reset(why);
  Reschedule();
  if (was_ready) {
    spdlog::info("terminal channel: terminal lost: {}", why);
    listener_.OnTerminalLost(why);
  }
  for (const std::string& id : doubtful) {
    auto it = txns_.find(id);
    if (it != txns_.end()) MarkInDoubt(it->second, StrCat("terminal lost: ", why));
  }
}

void TerminalChannel::ResetHandshakeBackoff() {
  backoff_ = options_.handshake_backoff_initial;
  hello_not_before_ = TimePoint{};
  if (phase_ == Phase::kHandshaking && !hello_sent_) SendHello();
  Reschedule();
}

void TerminalChannel::FailHandshake(std::string_view why) {
  spdlog::warn("terminal channel: handshake failed: {}", why);
  hello_not_before_ = clock_.Now() + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.handshake_backoff_max);
  LoseTerminal(why, /*reset_transport=*/true);
}

void TerminalChannel::OnMessage(std::span<const uint8_t> bytes) {
  if (phase_ == Phase::kClosed) return;
  absl::StatusOr<link::v1::Envelope> decoded = DecodeEnvelope(bytes);
  if (!decoded.ok()) {
    spdlog::warn("terminal channel: {}", decoded.status().ToString());
    return;
  }
  const link::v1::Envelope& envelope = *decoded;
  if (phase_ == Phase::kHandshaking) {
    if (envelope.has_hello_ack() && envelope.correlation_id() == hello_id_) {
      HandleHelloAck(envelope);
    } else if (envelope.has_error() && envelope.correlation_id() == hello_id_) {
      HandleError(envelope);
    }
    // Anything else belongs to an earlier session or answers nothing yet.
    Reschedule();
    return;
  }
  if (phase_ != Phase::kReady) return;
  last_processed_terminal_id_ = std::max(last_processed_terminal_id_, envelope.message_id());
  switch (envelope.body_case()) {
    case link::v1::Envelope::kProgress: HandleProgress(envelope.progress()); break;
    case link::v1::Envelope::kResult:
      HandleResult(envelope.result(), envelope.correlation_id());
      break;
    case link::v1::Envelope::kStatusReply: HandleStatusReply(envelope.status_reply()); break;
    case link::v1::Envelope::kHeartbeatAck:
      heartbeat_outstanding_ = 0;
      heartbeats_missed_ = 0;
      outstanding_.erase(envelope.correlation_id());
      break;
    case link::v1::Envelope::kDeviceInfo:
      outstanding_.erase(envelope.correlation_id());
      listener_.OnDeviceInfo(envelope.device_info());
      break;
    case link::v1::Envelope::kError: HandleError(envelope); break;
    case link::v1::Envelope::kHelloAck: break;  // a late duplicate
    case link::v1::Envelope::BODY_NOT_SET: {
      link::v1::Envelope error;
      error.set_message_id(NextMessageId());
      error.set_correlation_id(envelope.message_id());
      error.mutable_error()->set_code(link::v1::ERROR_CODE_UNKNOWN_BODY);
      error.mutable_error()->set_detail("body unknown to posd");
      SendEnvelope(error, Purpose::kQuery, "");
      outstanding_.erase(error.message_id());
      break;
    }
    default:
      spdlog::warn("terminal channel: unexpected {} from the terminal", BodyName(envelope));
      break;
  }
  Reschedule();
}

void TerminalChannel::HandleHelloAck(const link::v1::Envelope& envelope) {
  const link::v1::HelloAck& ack = envelope.hello_ack();
  outstanding_.erase(envelope.correlation_id());
  if (ack.protocol_version() != kProtocolVersion || ack.session_epoch() == 0) {
    FailHandshake(StrCat("terminal chose protocol version ", ack.protocol_version(),
                         " with epoch ", ack.session_epoch()));
    return;
  }
  if (!options_.expected_terminal_id.empty() &&
      ack.device_id() != options_.expected_terminal_id) {
    // Before Recover: nothing in flight may reach another terminal.
    FailHandshake(StrCat(kWrongTerminalPrefix, ": it answered as '", ack.device_id(),
                         "', this link is bound to terminal '", options_.expected_terminal_id,
                         "'"));
    return;
  }
  const bool restarted = terminal_epoch_ != 0 && ack.session_epoch() != terminal_epoch_;
  if (ack.session_epoch() != terminal_epoch_) last_processed_terminal_id_ = 0;
  terminal_epoch_ = ack.session_epoch();
  last_processed_terminal_id_ = std::max(last_processed_terminal_id_, envelope.message_id());
  terminal_ = TerminalIdentity{ack.device_id(), ack.model(), ack.firmware_version(),
                               ack.session_epoch(), ack.protocol_version()};
  phase_ = Phase::kReady;
  backoff_ = options_.handshake_backoff_initial;
  heartbeat_due_ = clock_.Now() + options_.heartbeat_interval;
  heartbeat_outstanding_ = 0;
  heartbeats_missed_ = 0;
  spdlog::info("terminal channel: ready: {} {} {} (epoch {:x}{})", ack.device_id(), ack.model(),
               ack.firmware_version(), ack.session_epoch(), restarted ? ", restarted" : "");
  Recover(ack);
  (void)RequestDeviceInfo();
  Reschedule();
  listener_.OnTerminalReady(*terminal_, restarted);
}

void TerminalChannel::Recover(const link::v1::HelloAck& ack) {
  (void)ack;
  for (auto& [id, txn] : txns_) {
    if (txn.cancel_requested) {
      SendCancel(txn);
    } else if (txn.query_only || txn.accepted) {
      SendQuery(txn);
    } else {
      // Never acknowledged: resend with the same message_id. Safe whether or
      // not it arrived before: the terminal answers a known transaction_id
      // from its ledger and never charges twice. Message ids cannot tell
      // (a resent request carries an id below ones the terminal has seen).
      SendRequest(txn);
    }
  }
}

void TerminalChannel::HandleProgress(const link::v1::Progress& progress) {
  auto it = txns_.find(progress.transaction_id());
  if (it == txns_.end()) return;
  Txn& txn = it->second;
  txn.accepted = true;
  txn.in_doubt_reported = false;
  txn.deadline_kind = Deadline::kTransaction;
  txn.deadline = clock_.Now() + options_.transaction_timeout;
  listener_.OnProgress(progress);
}

void TerminalChannel::HandleResult(const link::v1::Result& result, uint64_t correlation_id) {
  if (!IsInFlight(result.transaction_id())) {
    // A Result that answers our request for one transaction (by its
    // correlation id) but names another is no answer to it: it ends that
    // transaction with the Result as sent, so the engine sees the mismatch
    // and holds the payment IN_DOUBT, instead of waiting for a result that
    // may never come while the terminal may have charged.
    auto asked = outstanding_.find(correlation_id);
    if (correlation_id == 0 || asked == outstanding_.end() ||
        asked->second.purpose != Purpose::kTransaction || !IsInFlight(asked->second.transaction_id)) {
      return;  // repeated or unknown
    }
    const std::string transaction_id = asked->second.transaction_id;
    spdlog::error("terminal channel: the result for {} names transaction {}", transaction_id,
                  result.transaction_id());
    TransactionOutcome outcome;
    outcome.transaction_id = transaction_id;
    outcome.kind = TransactionOutcome::Kind::kResult;
    outcome.result = result;
    Resolve(transaction_id, std::move(outcome));
    return;
  }
  TransactionOutcome outcome;
  outcome.transaction_id = result.transaction_id();
  outcome.kind = TransactionOutcome::Kind::kResult;
  outcome.result = result;
  Resolve(result.transaction_id(), std::move(outcome));
}

void TerminalChannel::HandleStatusReply(const link::v1::StatusReply& reply) {
  auto it = txns_.find(reply.transaction_id());
  if (it == txns_.end()) return;
  Txn& txn = it->second;
  switch (reply.state()) {
    case link::v1::TRANSACTION_STATE_PROCESSED: {
      if (reply.result().transaction_id() != reply.transaction_id()) {
        spdlog::warn("terminal channel: StatusReply PROCESSED for {} without its Result",
                     reply.transaction_id());
        return;
      }
      HandleResult(reply.result());
      return;
    }
    case link::v1::TRANSACTION_STATE_IN_PROGRESS: {
      txn.accepted = true;
      txn.in_doubt_reported = false;
      txn.deadline_kind = Deadline::kTransaction;
      txn.deadline = clock_.Now() + options_.transaction_timeout;
      listener_.OnInProgress(txn.id);
      if (reply.stage() != link::v1::PROGRESS_STAGE_UNSPECIFIED) {
        link::v1::Progress progress;
        progress.set_transaction_id(txn.id);
        progress.set_stage(reply.stage());
        listener_.OnProgress(progress);
      }
      return;
    }
    case link::v1::TRANSACTION_STATE_NOT_FOUND: {
      // The query followed every copy of the request on the same in-order
      // transport session, so the terminal never started it.
      TransactionOutcome outcome;
      outcome.transaction_id = txn.id;
      outcome.kind = TransactionOutcome::Kind::kNotFound;
      Resolve(txn.id, std::move(outcome));
      return;
    }
    default:
      spdlog::warn("terminal channel: StatusReply for {} without a state", reply.transaction_id());
      return;
  }
}

void TerminalChannel::HandleError(const link::v1::Envelope& envelope) {
  const link::v1::Error& error = envelope.error();
  auto it = outstanding_.find(envelope.correlation_id());
  if (it == outstanding_.end()) {
    spdlog::warn("terminal channel: terminal error {} ({}) about message {}",
                 link::v1::ErrorCode_Name(error.code()), error.detail(),
                 envelope.correlation_id());
    return;
  }
  const Outstanding about = it->second;
  outstanding_.erase(it);
  if (about.purpose == Purpose::kHello) {
    FailHandshake(StrCat("terminal refused Hello: ", link::v1::ErrorCode_Name(error.code()), " ",
                         error.detail()));
    return;
  }
  if (error.code() == link::v1::ERROR_CODE_NOT_READY) {
    // The terminal does not consider us in session (it restarted its
    // application state): handshake again; recovery resends or queries.
    FailHandshake("terminal answered NOT_READY");
    return;
  }
  auto txn = txns_.find(about.transaction_id);
  if (about.purpose == Purpose::kTransaction && txn != txns_.end()) {
    // An Error in answer to Sale or Refund guarantees nothing moved.
    TransactionOutcome outcome;
    outcome.transaction_id = about.transaction_id;
    outcome.kind = TransactionOutcome::Kind::kRefused;
    outcome.error = error;
    Resolve(about.transaction_id, std::move(outcome));
    return;
  }
  spdlog::warn("terminal channel: terminal error {} ({}) for transaction {}",
               link::v1::ErrorCode_Name(error.code()), error.detail(), about.transaction_id);
}

// --- Timers ----------------------------------------------------------------

void TerminalChannel::MarkInDoubt(Txn& txn, std::string_view reason) {
  if (txn.in_doubt_reported) return;
  txn.in_doubt_reported = true;
  const std::string id = txn.id;
  listener_.OnInDoubt(id, reason);
}

void TerminalChannel::Reschedule() {
  if (phase_ == Phase::kClosed) return;
  std::optional<TimePoint> next;
  auto consider = [&next](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  if (phase_ == Phase::kHandshaking) {
    consider(hello_sent_ ? handshake_deadline_ : hello_not_before_);
  }
  if (phase_ == Phase::kReady) {
    consider(heartbeat_due_);
    for (const auto& [id, txn] : txns_) {
      if (txn.deadline_kind != Deadline::kNone) consider(txn.deadline);
    }
  }
  if (!next) {
    timer_->Cancel();
    return;
  }
  timer_->ArmAt(*next, [this] { OnTimer(); });
}

void TerminalChannel::OnTimer() {
  const TimePoint now = clock_.Now();
  if (phase_ == Phase::kHandshaking) {
    if (!hello_sent_ && now >= hello_not_before_) {
      SendHello();
    } else if (hello_sent_ && now >= handshake_deadline_) {
      FailHandshake(StrCat("no HelloAck within ", Millis(options_.handshake_timeout), " ms"));
      return;
    }
  }
  if (phase_ == Phase::kReady && now >= heartbeat_due_) {
    if (heartbeat_outstanding_ != 0) ++heartbeats_missed_;
    if (heartbeats_missed_ >= options_.heartbeat_max_missed) {
      LoseTerminal(StrCat(heartbeats_missed_, " heartbeats unanswered"), /*reset_transport=*/true);
      return;
    }
    link::v1::Envelope envelope;
    envelope.set_message_id(NextMessageId());
    envelope.mutable_heartbeat();
    if (heartbeat_outstanding_ != 0) outstanding_.erase(heartbeat_outstanding_);
    heartbeat_outstanding_ = envelope.message_id();
    heartbeat_due_ = now + options_.heartbeat_interval;
    SendEnvelope(envelope, Purpose::kHeartbeat, "");
  }
  if (phase_ == Phase::kReady) {
    std::vector<std::string> due;
    for (const auto& [id, txn] : txns_) {
      if (txn.deadline_kind != Deadline::kNone && now >= txn.deadline) due.push_back(id);
    }
    for (const std::string& id : due) {
      auto it = txns_.find(id);
      if (it == txns_.end() || phase_ != Phase::kReady) continue;
      Txn& txn = it->second;
      switch (txn.deadline_kind) {
        case Deadline::kAccept:
        case Deadline::kTransaction:
          SendQuery(txn);
          break;
        case Deadline::kQuery:
          txn.deadline_kind = Deadline::kQueryRetry;
          txn.deadline = now + options_.query_retry_interval;
          MarkInDoubt(txn, "status query unanswered");
          break;
        case Deadline::kQueryRetry:
          if (txn.cancel_requested) {
            SendCancel(txn);
          } else {
            SendQuery(txn);
          }
          break;
        case Deadline::kNone:
          break;
      }
    }
  }
  Reschedule();
}

void TerminalChannel::Resolve(std::string transaction_id, TransactionOutcome outcome) {
  auto it = txns_.find(transaction_id);
  if (it == txns_.end()) return;
  txns_.erase(it);
  resolved_.insert(transaction_id);
  if (outcome.kind == TransactionOutcome::Kind::kResult) {
    outcome.result.set_masked_pan(SanitizeMaskedPan(outcome.result.masked_pan()));
  }
  Reschedule();
  spdlog::info("terminal channel: {} -> {} {}", transaction_id, OutcomeKindName(outcome.kind),
               outcome.kind == TransactionOutcome::Kind::kResult
                   ? link::v1::Outcome_Name(outcome.result.outcome())
                   : std::string());
  listener_.OnOutcome(outcome);
}

}  // namespace posd::channel
