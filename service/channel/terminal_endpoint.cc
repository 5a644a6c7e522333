#include "service/channel/terminal_endpoint.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <utility>

#include "service/common/strings.h"

namespace posd::channel {
namespace {

namespace v1 = ::posd::link::v1;

uint64_t RandomEpoch() {
  std::random_device device;
  uint64_t epoch = 0;
  while (epoch == 0) epoch = (uint64_t{device()} << 32) | device();
  return epoch;
}

std::string_view StageText(v1::ProgressStage stage) {
  switch (stage) {
    case v1::PROGRESS_STAGE_WAITING_FOR_CARD: return "Insert, tap or swipe card";
    case v1::PROGRESS_STAGE_READING_CARD: return "Reading card";
    case v1::PROGRESS_STAGE_PIN_ENTRY: return "Enter PIN";
    case v1::PROGRESS_STAGE_PROCESSING: return "Processing";
    case v1::PROGRESS_STAGE_APPROVED_SHOWN: return "Approved";
    case v1::PROGRESS_STAGE_DECLINED_SHOWN: return "Declined";
    default: return "";
  }
}

bool SameRequest(const ledger::Started& a, const ledger::Started& b) {
  return a.kind() == b.kind() && a.amount_minor() == b.amount_minor() &&
         a.tip_minor() == b.tip_minor() && a.currency_code() == b.currency_code() &&
         a.original_transaction_id() == b.original_transaction_id();
}

// What can still go back to the card of an approved sale: what its Result
// says was charged, tip included (a partial approval charged less than was
// asked, and only that can be returned), less the refunds approved since.
// Saturates instead of overflowing: no card was ever charged 2^63 - 1.
int64_t RefundableMinor(const v1::Result& sale, int64_t refunded_minor) {
  int64_t charged = 0;
  if (__builtin_add_overflow(sale.amount_minor(), sale.tip_minor(), &charged)) {
    charged = std::numeric_limits<int64_t>::max();
  }
  return charged - std::min(charged, refunded_minor);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TerminalEndpoint>> TerminalEndpoint::Create(
    const TerminalEndpointOptions& options, MessageTransport& transport, TimerFactory& timers,
    const Clock& clock, ResultLedger& ledger, TerminalEndpointHooks& hooks) {
  // A transaction cut short by a crash or power loss never reached its
  // charge (the Finished record is the charge): it ends as ERROR, durably,
  // before anyone can ask about it.
  for (const std::string& id : ledger.Unfinished()) {
    v1::Result result;
    result.set_transaction_id(id);
    result.set_outcome(v1::OUTCOME_ERROR);
    result.set_reason_code("E_RESTART");
    result.set_reason_text("terminal restarted before completing; nothing charged");
    const ledger::LedgerTransaction* t = ledger.Find(id);
    if (t != nullptr) result.set_currency_code(t->request().currency_code());
    if (absl::Status s = ledger.RecordFinished(result); !s.ok()) return s;
    spdlog::warn("termsim: {} was interrupted by a restart: recorded as ERROR", id);
  }
  return std::unique_ptr<TerminalEndpoint>(
      new TerminalEndpoint(options, transport, timers.CreateTimer(), clock, ledger, hooks));
}

TerminalEndpoint::TerminalEndpoint(const TerminalEndpointOptions& options,
                                   MessageTransport& transport, std::unique_ptr<Timer> timer,
                                   const Clock& clock, ResultLedger& ledger,
                                   TerminalEndpointHooks& hooks)
    : options_(options),
      transport_(transport),
      timer_(std::move(timer)),
      clock_(clock),
      ledger_(ledger),
      hooks_(hooks),
      booted_at_(clock.Now()),
      epoch_(options.session_epoch != 0 ? options.session_epoch : RandomEpoch()) {}

TerminalEndpoint::~TerminalEndpoint() { Halt(); }

void TerminalEndpoint::Start() { transport_.Start(this); }

void TerminalEndpoint::Halt() {
  halted_ = true;
  timer_->Cancel();
}

void TerminalEndpoint::OnTransportUp() {
  // posd speaks first (Hello); until then everything else is NOT_READY.
  in_session_ = false;
}

void TerminalEndpoint::OnTransportDown(TransportDownReason, std::string_view) {
  in_session_ = false;
}

void TerminalEndpoint::Send(v1::Envelope& envelope) {
  if (halted_) return;
  envelope.set_message_id(next_message_id_++);
  envelope.set_sent_at_ms(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - booted_at_).count()));
  if (envelope.has_result()) {
    outbox_.push_back(envelope);
    while (outbox_.size() > options_.outbox_limit) outbox_.pop_front();
  }
  if (!transport_.is_up()) return;  // kept in the outbox / ledger
  if (absl::Status s = transport_.Send(EncodeEnvelope(envelope)); !s.ok()) {
    spdlog::warn("termsim: {} not sent: {}", BodyName(envelope), s.ToString());
  }
}

void TerminalEndpoint::Reply(uint64_t correlation_id, v1::Envelope& envelope) {
  envelope.set_correlation_id(correlation_id);
  Send(envelope);
}

void TerminalEndpoint::SendError(uint64_t correlation_id, v1::ErrorCode code,
                                 std::string_view detail, std::string_view transaction_id,
                                 std::string_view field) {
  v1::Envelope envelope;
  v1::Error* error = envelope.mutable_error();
  error->set_code(code);
  error->set_detail(std::string(detail));
  error->set_transaction_id(std::string(transaction_id));
  error->set_field(std::string(field));
  Reply(correlation_id, envelope);
}

void TerminalEndpoint::OnMessage(std::span<const uint8_t> bytes) {
  if (halted_) return;
  absl::StatusOr<v1::Envelope> decoded = DecodeEnvelope(bytes);
  if (!decoded.ok()) {
    SendError(0, v1::ERROR_CODE_MALFORMED, "envelope does not parse");
    return;
  }
  const v1::Envelope& envelope = *decoded;
  if (envelope.has_hello()) {
    HandleHello(envelope);
    return;
  }
  if (envelope.has_error()) {
    // Logged, never answered, in or out of a session: two ends must not
    // trade Errors (docs/protocol.md, "Errors").
    spdlog::warn("termsim: posd reported {}: {}", v1::ErrorCode_Name(envelope.error().code()),
                 envelope.error().detail());
    return;
  }
  if (!in_session_) {
    SendError(envelope.message_id(), v1::ERROR_CODE_NOT_READY, "send Hello first");
    return;
  }
  last_processed_posd_id_ = std::max(last_processed_posd_id_, envelope.message_id());
  switch (envelope.body_case()) {
    case v1::Envelope::kSale:
    case v1::Envelope::kRefund:
      HandleTransaction(envelope);
      break;
    case v1::Envelope::kStatusQuery: HandleStatusQuery(envelope, /*cancel=*/false); break;
    case v1::Envelope::kCancel: HandleStatusQuery(envelope, /*cancel=*/true); break;
    case v1::Envelope::kHeartbeat: {
      if (!hooks_.AnswerHeartbeat()) break;
      v1::Envelope ack;
      ack.mutable_heartbeat_ack()->set_in_progress_transaction_id(running_transaction());
      Reply(envelope.message_id(), ack);
      break;
    }
    case v1::Envelope::kDeviceInfoRequest: {
      v1::Envelope info;
      v1::DeviceInfo* d = info.mutable_device_info();
      d->set_device_id(options_.device_id);
      d->set_model(options_.model);
      d->set_firmware_version(options_.firmware_version);
      d->set_serial_number(options_.serial_number);
      for (v1::Capability c : {v1::CAPABILITY_REFUND, v1::CAPABILITY_CANCEL,
                               v1::CAPABILITY_CONTACTLESS, v1::CAPABILITY_CHIP, v1::CAPABILITY_PIN}) {
        d->add_capabilities(c);
      }
      for (const std::string& code : options_.currency_codes) d->add_currency_codes(code);
      Reply(envelope.message_id(), info);
      break;
    }
    case v1::Envelope::BODY_NOT_SET:
      SendError(envelope.message_id(), v1::ERROR_CODE_UNKNOWN_BODY, "unknown body");
      break;
    default:
      SendError(envelope.message_id(), v1::ERROR_CODE_MALFORMED,
                StrCat(BodyName(envelope), " is not sent to a terminal"));
      break;
  }
}

void TerminalEndpoint::HandleHello(const v1::Envelope& envelope) {
  const v1::Hello& hello = envelope.hello();
  const uint32_t min = std::max<uint32_t>(hello.min_protocol_version(), 1);
  if (hello.protocol_version() < kProtocolVersion || min > kProtocolVersion ||
      hello.session_epoch() == 0) {
    SendError(envelope.message_id(), v1::ERROR_CODE_UNSUPPORTED_VERSION,
              StrCat("this terminal speaks protocol version ", kProtocolVersion));
    return;
  }
  const bool knows_posd = hello.session_epoch() == posd_epoch_;
  if (!knows_posd) {
    posd_epoch_ = hello.session_epoch();
    last_processed_posd_id_ = 0;
  }
  in_session_ = true;
  v1::Envelope reply;
  v1::HelloAck* ack = reply.mutable_hello_ack();
  ack->set_session_epoch(epoch_);
  ack->set_protocol_version(kProtocolVersion);
  ack->set_device_id(options_.device_id);
  ack->set_model(options_.model);
  ack->set_firmware_version(options_.firmware_version);
  ack->set_peer_epoch(knows_posd ? posd_epoch_ : 0);
  // The highest id before this Hello (informational; see docs/protocol.md).
  ack->set_last_processed_message_id(knows_posd ? last_processed_posd_id_ : 0);
  ack->set_in_progress_transaction_id(running_transaction());
  last_processed_posd_id_ = std::max(last_processed_posd_id_, envelope.message_id());
  Reply(envelope.message_id(), reply);
  // Results posd never processed (lost with the previous session).
  if (hello.peer_epoch() == epoch_) {
    for (const v1::Envelope& sent : outbox_) {
      if (sent.message_id() > hello.last_processed_message_id() && transport_.is_up()) {
        (void)transport_.Send(EncodeEnvelope(sent));
      }
    }
  }
}

void TerminalEndpoint::HandleTransaction(const v1::Envelope& envelope) {
  const uint64_t id = envelope.message_id();
  ledger::Started request;
  if (envelope.has_sale()) {
    const v1::Sale& sale = envelope.sale();
    if (absl::Status s = ValidateSale(sale); !s.ok()) {
      SendError(id, v1::ERROR_CODE_MALFORMED, ToStd(s.message()), sale.transaction_id(), FieldOf(s));
      return;
    }
    request.set_transaction_id(sale.transaction_id());
    request.set_kind(ledger::TRANSACTION_KIND_SALE);
    request.set_amount_minor(sale.amount_minor());
    request.set_tip_minor(sale.tip_minor());
    request.set_currency_code(sale.currency_code());
    request.set_reference(sale.reference());
  } else {
    const v1::Refund& refund = envelope.refund();
    if (absl::Status s = ValidateRefund(refund); !s.ok()) {
      SendError(id, v1::ERROR_CODE_MALFORMED, ToStd(s.message()), refund.transaction_id(),
                FieldOf(s));
      return;
    }
    request.set_transaction_id(refund.transaction_id());
    request.set_kind(ledger::TRANSACTION_KIND_REFUND);
    request.set_amount_minor(refund.amount_minor());
    request.set_currency_code(refund.currency_code());
    request.set_original_transaction_id(refund.original_transaction_id());
  }
  const std::string& txn = request.transaction_id();

  // Exactly once: a known transaction_id is never processed again.
  if (const ledger::LedgerTransaction* known = ledger_.Find(txn); known != nullptr) {
    if (!SameRequest(known->request(), request)) {
      SendError(id, v1::ERROR_CODE_DUPLICATE_TRANSACTION,
                "transaction_id already used with other values", txn);
      return;
    }
    if (known->has_result()) {
      spdlog::info("termsim: {} repeated: answering the remembered {}", txn,
                   v1::Outcome_Name(known->result().outcome()));
      v1::Envelope reply;
      *reply.mutable_result() = known->result();
      Reply(id, reply);
      return;
    }
    if (running_ && running_->request.transaction_id() == txn) {
      running_->correlation_id = id;
      SendProgress(running_->stage, StageText(running_->stage));
      return;
    }
  }
  if (running_) {
    SendError(id, v1::ERROR_CODE_BUSY,
              StrCat("busy with ", running_->request.transaction_id()), txn);
    return;
  }
  if (!options_.currency_codes.empty() &&
      std::find(options_.currency_codes.begin(), options_.currency_codes.end(),
                request.currency_code()) == options_.currency_codes.end()) {
    SendError(id, v1::ERROR_CODE_UNSUPPORTED_CURRENCY,
              StrCat("currency ", request.currency_code(), " not accepted"), txn);
    return;
  }
  if (request.kind() == ledger::TRANSACTION_KIND_REFUND) {
    const ledger::LedgerTransaction* original = ledger_.Find(request.original_transaction_id());
    if (original == nullptr || original->request().kind() != ledger::TRANSACTION_KIND_SALE ||
        !original->has_result() || original->result().outcome() != v1::OUTCOME_APPROVED) {
      SendError(id, v1::ERROR_CODE_UNKNOWN_TRANSACTION, "no approved sale to refund", txn);
      return;
    }
    if (original->result().currency_code() != request.currency_code() ||
        request.amount_minor() > RefundableMinor(original->result(),
                                                 ledger_.RefundedMinor(
                                                     request.original_transaction_id()))) {
      SendError(id, v1::ERROR_CODE_UNKNOWN_TRANSACTION,
                "refund exceeds what remains of the sale or changes its currency", txn);
      return;
    }
  }
  if (absl::Status s = ledger_.RecordStarted(request); !s.ok()) {
    spdlog::error("termsim: ledger: {}", s.ToString());
    SendError(id, v1::ERROR_CODE_INTERNAL, "ledger write failed; nothing started", txn);
    return;
  }
  Running running;
  running.request = request;
  running.plan = hooks_.Plan(request);
  running.correlation_id = id;
  running_ = std::move(running);
  spdlog::info("termsim: {} {} {} {} started", txn,
               request.kind() == ledger::TRANSACTION_KIND_SALE ? "sale" : "refund",
               request.amount_minor() + request.tip_minor(), request.currency_code());
  running_->stage = v1::PROGRESS_STAGE_WAITING_FOR_CARD;
  SendProgress(running_->stage, StageText(running_->stage));
  timer_->ArmAt(clock_.Now() + options_.step_delay, [this] { Advance(); });
}

void TerminalEndpoint::HandleStatusQuery(const v1::Envelope& envelope, bool cancel) {
  const std::string& txn = cancel ? envelope.cancel().transaction_id()
                                  : envelope.status_query().transaction_id();
  v1::Envelope reply;
  v1::StatusReply* status = reply.mutable_status_reply();
  status->set_transaction_id(txn);
  if (running_ && running_->request.transaction_id() == txn) {
    running_->correlation_id = envelope.message_id();
    status->set_state(v1::TRANSACTION_STATE_IN_PROGRESS);
    status->set_stage(running_->stage);
    Reply(envelope.message_id(), reply);
    if (cancel && running_->stage < v1::PROGRESS_STAGE_PROCESSING) {
      Finish(v1::OUTCOME_CANCELED, "", "canceled by the POS");
    } else if (cancel) {
      running_->cancel_requested = true;  // too late: authorization is running
    }
    return;
  }
  const ledger::LedgerTransaction* known = ledger_.Find(txn);
  if (known != nullptr && known->has_result()) {
    status->set_state(v1::TRANSACTION_STATE_PROCESSED);
    *status->mutable_result() = known->result();
  } else if (known != nullptr) {
    status->set_state(v1::TRANSACTION_STATE_IN_PROGRESS);  // cannot happen after Create
  } else {
    status->set_state(v1::TRANSACTION_STATE_NOT_FOUND);
  }
  Reply(envelope.message_id(), reply);
}

void TerminalEndpoint::SendProgress(v1::ProgressStage stage, std::string_view text) {
  if (!running_) return;
  v1::Envelope envelope;
  v1::Progress* progress = envelope.mutable_progress();
  progress->set_transaction_id(running_->request.transaction_id());
  progress->set_stage(stage);
  progress->set_display_message(std::string(text));
  Reply(running_->correlation_id, envelope);
}

void TerminalEndpoint::Advance() {
  if (halted_ || !running_) return;
  Running& r = *running_;
  using S = v1::ProgressStage;
  S next = v1::PROGRESS_STAGE_UNSPECIFIED;
  Duration wait = options_.step_delay;
  switch (r.stage) {
    case v1::PROGRESS_STAGE_WAITING_FOR_CARD:
      if (r.plan.customer_cancels) {
        Finish(v1::OUTCOME_CANCELED, "", "canceled by customer");
        return;
      }
      next = v1::PROGRESS_STAGE_READING_CARD;
      break;
    case v1::PROGRESS_STAGE_READING_CARD:
      next = r.plan.pin_entry ? v1::PROGRESS_STAGE_PIN_ENTRY : v1::PROGRESS_STAGE_PROCESSING;
      if (next == v1::PROGRESS_STAGE_PROCESSING) wait += r.plan.extra_processing;
      break;
    case v1::PROGRESS_STAGE_PIN_ENTRY:
      next = v1::PROGRESS_STAGE_PROCESSING;
      wait += r.plan.extra_processing;
      break;
    case v1::PROGRESS_STAGE_PROCESSING:
      Finish(r.plan.outcome, r.plan.reason_code, r.plan.reason_text);
      return;
    default:
      return;
  }
  r.stage = static_cast<S>(next);
  SendProgress(r.stage, StageText(r.stage));
  timer_->ArmAt(clock_.Now() + wait, [this] { Advance(); });
}

v1::Result TerminalEndpoint::MakeResult(v1::Outcome outcome, std::string reason_code,
                                        std::string reason_text) const {
  const Running& r = *running_;
  v1::Result result;
  result.set_transaction_id(r.request.transaction_id());
  result.set_outcome(outcome);
  result.set_currency_code(r.request.currency_code());
  result.set_terminal_reference(
      StrCat(options_.device_id, "-", ledger_.transaction_count()));
  const bool card_read = r.stage >= v1::PROGRESS_STAGE_READING_CARD;
  if (card_read) {
    result.set_card_brand(r.plan.card_brand);
    result.set_masked_pan(SanitizeMaskedPan(r.plan.masked_pan));
  }
  if (outcome == v1::OUTCOME_APPROVED) {
    const size_t h = std::hash<std::string>{}(r.request.transaction_id());
    result.set_approval_code(StrCat(100000 + h % 900000));
    result.set_amount_minor(r.request.amount_minor());
    result.set_tip_minor(r.request.tip_minor());
  } else {
    result.set_reason_code(std::move(reason_code));
    result.set_reason_text(std::move(reason_text));
  }
  return result;
}

void TerminalEndpoint::Finish(v1::Outcome outcome, std::string reason_code,
                              std::string reason_text) {
  if (!running_) return;
  timer_->Cancel();
  v1::Result result = MakeResult(outcome, std::move(reason_code), std::move(reason_text));
  // The ledger write is the charge: durable before anyone hears of it.
  if (absl::Status s = ledger_.RecordFinished(result); !s.ok()) {
    // Without a durable outcome the terminal cannot tell later whether it
    // charged: stay IN_PROGRESS (protocol rule) and let the operator see it.
    spdlog::error("termsim: ledger: {}; {} stays in progress", s.ToString(),
                  result.transaction_id());
    return;
  }
  const ledger::Started request = running_->request;
  const uint64_t correlation = running_->correlation_id;
  const v1::ProgressStage shown = outcome == v1::OUTCOME_APPROVED
                                      ? v1::PROGRESS_STAGE_APPROVED_SHOWN
                                      : v1::PROGRESS_STAGE_DECLINED_SHOWN;
  const AfterRecord after = hooks_.AfterRecorded(result);
  if (after == AfterRecord::kHalt) {
    Halt();
    return;
  }
  running_->stage = shown;
  if (after == AfterRecord::kAnswer && outcome != v1::OUTCOME_CANCELED) {
    SendProgress(shown, StageText(shown));
  }
  running_.reset();
  hooks_.OnFinished(request, result);
  if (after == AfterRecord::kStaySilent) return;
  v1::Envelope envelope;
  *envelope.mutable_result() = result;
  Reply(correlation, envelope);
}

}  // namespace posd::channel
