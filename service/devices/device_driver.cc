#include "service/devices/device_driver.h"

#include <boost/asio/io_context.hpp>

#include "google/protobuf/util/time_util.h"
#include "service/common/error_info.h"
#include "service/common/strings.h"
#include "service/devices/tracing_byte_stream.h"
#include "service/transport/serial_port.h"
#include "spdlog/spdlog.h"

namespace posd::devices {
namespace {

using google::protobuf::util::TimeUtil;
namespace lv1 = ::posd::link::v1;

google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point at) {
  return TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count());
}

engine::TerminalStage StageOf(lv1::ProgressStage stage) {
  switch (stage) {
    case lv1::PROGRESS_STAGE_WAITING_FOR_CARD: return engine::TerminalStage::kWaitingForCard;
    case lv1::PROGRESS_STAGE_READING_CARD: return engine::TerminalStage::kReadingCard;
    case lv1::PROGRESS_STAGE_PIN_ENTRY: return engine::TerminalStage::kPinEntry;
    case lv1::PROGRESS_STAGE_PROCESSING: return engine::TerminalStage::kProcessing;
    case lv1::PROGRESS_STAGE_APPROVED_SHOWN: return engine::TerminalStage::kApprovedShown;
    case lv1::PROGRESS_STAGE_DECLINED_SHOWN: return engine::TerminalStage::kDeclinedShown;
    default: return engine::TerminalStage::kUnspecified;
  }
}

engine::TransactionResult ResultOf(std::string_view device_id, const lv1::Result& result) {
  engine::TransactionResult out;
  out.device_id = std::string(device_id);
  out.transaction_id = result.transaction_id();
  switch (result.outcome()) {
    case lv1::OUTCOME_APPROVED: out.outcome = engine::TransactionOutcome::kApproved; break;
    case lv1::OUTCOME_DECLINED: out.outcome = engine::TransactionOutcome::kDeclined; break;
    case lv1::OUTCOME_CANCELED: out.outcome = engine::TransactionOutcome::kCanceled; break;
    default: out.outcome = engine::TransactionOutcome::kFailed; break;
  }
  // As reported: the engine checks them against the request.
  out.amount_minor = result.amount_minor();
  out.tip_minor = result.tip_minor();
  out.currency = result.currency_code();
  out.reported_transaction_id = result.transaction_id();
  out.card_brand = result.card_brand();
  out.masked_pan = result.masked_pan();  // sanitized by the channel
  out.approval_code = result.approval_code();
  out.terminal_reference = result.terminal_reference();
  out.decline_code = result.reason_code();
  out.message = result.reason_text();
  return out;
}

std::string CapabilityName(lv1::Capability capability) {
  std::string name = lv1::Capability_Name(capability);
  constexpr std::string_view kPrefix = "CAPABILITY_";
  if (name.rfind(kPrefix, 0) == 0) name.erase(0, kPrefix.size());
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return name;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeviceDriver>> DeviceDriver::Create(boost::asio::io_context& io,
                                                                   DeviceDriverOptions options,
                                                                   EventsRelay& events,
                                                                   const Clock& clock) {
  if (absl::Status valid = channel::ValidateTerminalChannelOptions(options.channel); !valid.ok()) {
    return valid;
  }
  if (absl::Status valid = ValidateRecord(options.record); !valid.ok()) return valid;
  if (options.record.link == LinkKind::kWebSocket) {
    // Refused at the handshake, before anything in flight is resent to it.
    options.channel.expected_terminal_id = options.record.websocket.terminal_id;
  }
  std::unique_ptr<DeviceDriver> driver(new DeviceDriver(io, std::move(options), events, clock));
  std::unique_ptr<channel::MessageTransport> link;
  if (driver->record_.link == LinkKind::kWebSocket) {
    websocket::WebSocketClientOptions ws;
    ws.endpoint = driver->record_.websocket.endpoint;
    ws.tls = {.enabled = driver->record_.websocket.tls,
              .ca_file = driver->options_.tls_ca_file,
              .server_name = ""};
    ws.websocket = driver->options_.websocket;
    auto client = websocket::WebSocketClientTransport::Create(
        io, std::move(ws),
        [d = driver.get()](const websocket::ConnectReport& report) { d->OnConnectReport(report); });
    if (!client.ok()) return client.status();
    driver->websocket_ = client->get();
    driver->follower_ = std::make_unique<TerminalFollower>(driver->record_.websocket.endpoint);
    link = *std::move(client);
  } else {
    channel::SerialLinkTransportOptions serial_options = driver->options_.link;
    serial_options.description = StrCat("serial ", driver->record_.serial.port);
    auto serial = channel::SerialLinkTransport::Create(
        io, [d = driver.get()] { return d->Open(); }, std::move(serial_options));
    if (!serial.ok()) return serial.status();
    driver->serial_ = serial->get();
    link = *std::move(serial);
  }
  driver->transport_ = std::make_unique<TracingTransport>(
      std::move(link), [d = driver.get()](posd::v1::TraceEntry e) { d->Record(std::move(e)); },
      [d = driver.get()](channel::TransportDownReason reason, std::string_view detail) {
        d->OnTransportDown(reason, detail);
      });
  auto channel = channel::TerminalChannel::Create(driver->options_.channel, *driver->transport_,
                                                  driver->timers_, clock, *driver);
  if (!channel.ok()) return channel.status();
  driver->channel_ = *std::move(channel);
  return driver;
}

DeviceDriver::DeviceDriver(boost::asio::io_context& io, DeviceDriverOptions options,
                           EventsRelay& events, const Clock& clock)
    : io_(io), record_(options.record), id_(options.record.id), options_(std::move(options)),
      events_(events), clock_(clock),
      recorder_(std::make_unique<FlightRecorder>(options_.recorder_capacity)), timers_(io) {
  device_.set_id(record_.id);
  device_.set_display_name(record_.name);
  link_name_ = LinkName(record_);
  if (record_.link == LinkKind::kWebSocket) {
    auto* ws = device_.mutable_websocket();
    ws->set_terminal_id(record_.websocket.terminal_id);
    ws->set_host(record_.websocket.endpoint.host);
    ws->set_port(record_.websocket.endpoint.port);
    ws->set_path(record_.websocket.endpoint.path);
    ws->set_tls(record_.websocket.tls);
  } else {
    *device_.mutable_serial() = SettingsToProto(record_.serial);
  }
  device_.set_origin(record_.from_config ? posd::v1::DEVICE_ORIGIN_CONFIG
                                         : posd::v1::DEVICE_ORIGIN_API);
  if (record_.created_at_ms > 0) {
    *device_.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(record_.created_at_ms);
  }
  device_.set_state(posd::v1::DEVICE_STATE_CONNECTING);
  device_.set_state_detail("not started");
  *device_.mutable_state_changed_at() = ToTimestamp(clock_.WallNow());
  *stats_.mutable_since() = ToTimestamp(clock_.WallNow());
}

DeviceDriver::~DeviceDriver() {
  // Close() normally ran on the io thread; destroying the channel before the
  // transport keeps the channel's reference valid to the end.
  channel_.reset();
  transport_.reset();
}

void DeviceDriver::Start() {
  if (websocket_ != nullptr && websocket_->endpoint().host.empty()) {
    SetState(posd::v1::DEVICE_STATE_DISCONNECTED, posd::v1::DEVICE_STATE_REASON_NOT_DISCOVERED,
             StrCat("waiting for terminal ", record_.websocket.terminal_id,
                    " to announce itself"));
    channel_->Start();
    return;
  }
  SetState(posd::v1::DEVICE_STATE_CONNECTING, posd::v1::DEVICE_STATE_REASON_UNSPECIFIED,
           StrCat(record_.link == LinkKind::kWebSocket ? "connecting to " : "opening ",
                  link_name_));
  channel_->Start();
}

void DeviceDriver::Close(Reason reason, const absl::Status& why) {
  if (closed_) return;
  closed_ = true;
  if (channel_) channel_->Close();
  LinkEvent("DOWN", StrCat("link closed: ", why.message()));
  SetState(posd::v1::DEVICE_STATE_DISCONNECTED, reason, std::string(why.message()));
  channel_.reset();
  transport_.reset();
  serial_ = nullptr;
  websocket_ = nullptr;
  fanout_->EndAll(why);
}

absl::StatusOr<std::unique_ptr<transport::ByteStream>> DeviceDriver::Open() {
  absl::StatusOr<std::unique_ptr<transport::ByteStream>> opened;
  if (options_.opener) {
    opened = options_.opener();
  } else {
    auto port = transport::SerialPort::Open(io_, record_.serial);
    if (port.ok()) {
      opened = std::unique_ptr<transport::ByteStream>(*std::move(port));
    } else {
      opened = port.status();
    }
  }
  if (!opened.ok()) {
    const std::string message(opened.status().message());
    // Retried every few seconds: record the first failure and changes only,
    // so the flight recorder keeps what happened before.
    if (message != last_open_error_) {
      LinkEvent("OPEN", StrCat("cannot open ", record_.serial.port), message);
      spdlog::warn("terminal {}: {}", id_, message);
      last_open_error_ = message;
    }
    SetState(StateForOpenError(opened.status()), ReasonForOpenError(opened.status()), message);
    return opened.status();
  }
  last_open_error_.clear();
  LinkEvent("OPEN", StrCat("opened ", record_.serial.port));
  // Why the link went down before stays visible while handshaking again;
  // a failure to open is over now that it opened.
  Reason reason = posd::v1::DEVICE_STATE_REASON_UNSPECIFIED;
  {
    const std::lock_guard lock(mutex_);
    reason = device_.state_reason();
  }
  if (reason == posd::v1::DEVICE_STATE_REASON_PORT_MISSING ||
      reason == posd::v1::DEVICE_STATE_REASON_PERMISSION_DENIED ||
      reason == posd::v1::DEVICE_STATE_REASON_PORT_BUSY) {
    reason = posd::v1::DEVICE_STATE_REASON_UNSPECIFIED;
  }
  SetState(posd::v1::DEVICE_STATE_CONNECTING, reason,
           StrCat(record_.serial.port, " open, handshaking"));
  return std::make_unique<TracingByteStream>(
      *std::move(opened), [this](posd::v1::TraceEntry e) { Record(std::move(e)); });
}

void DeviceDriver::OnConnectReport(const websocket::ConnectReport& report) {
  if (closed_) return;
  const std::string url = websocket::EndpointUrl(report.endpoint, record_.websocket.tls);
  {
    const std::lock_guard lock(mutex_);
    device_.mutable_websocket()->set_last_address(
        StrCat(report.endpoint.host, ":", report.endpoint.port));
  }
  if (!report.status.ok()) {
    const std::string message(report.status.message());
    // Retried every few seconds: record the first failure and changes only.
    if (message != last_open_error_) {
      LinkEvent("CONNECT", StrCat("cannot connect to ", url), message);
      spdlog::warn("terminal {}: {}: {}", id_, url, message);
      last_open_error_ = message;
    }
    const Reason reason = report.stage == websocket::ConnectStage::kTls
                              ? posd::v1::DEVICE_STATE_REASON_TLS_ERROR
                              : posd::v1::DEVICE_STATE_REASON_CONNECT_FAILED;
    SetState(reason == posd::v1::DEVICE_STATE_REASON_TLS_ERROR ? posd::v1::DEVICE_STATE_FAULT
                                                               : posd::v1::DEVICE_STATE_DISCONNECTED,
             reason, StrCat(url, ": ", message));
    // Nothing there (a stale announcement, an old address): the next
    // candidate gets the transport's next attempt.
    if (auto move = follower_->OnAttemptFailed(report.endpoint)) {
      Follow(*move, StrCat("nothing at ", url));
    }
    return;
  }
  connected_endpoint_ = report.endpoint;
  last_open_error_.clear();
  LinkEvent("CONNECT", StrCat("connected to ", url));
  Reason reason = posd::v1::DEVICE_STATE_REASON_UNSPECIFIED;
  {
    const std::lock_guard lock(mutex_);
    reason = device_.state_reason();
  }
  if (reason == posd::v1::DEVICE_STATE_REASON_CONNECT_FAILED ||
      reason == posd::v1::DEVICE_STATE_REASON_TLS_ERROR) {
    reason = posd::v1::DEVICE_STATE_REASON_UNSPECIFIED;
  }
  SetState(posd::v1::DEVICE_STATE_CONNECTING, reason, StrCat(url, " connected, handshaking"));
}

void DeviceDriver::OnTransportDown(channel::TransportDownReason reason, std::string_view detail) {
  // A reset posd made itself says why in `detail` (the channel's words:
  // heartbeats unanswered, no HelloAck, ...); "link down" would hide that.
  last_transport_down_ = reason == channel::TransportDownReason::kLocalReset
                             ? ReasonForChannelLoss(detail)
                             : ReasonForTransportDown(reason);
  if (closed_ || reason == channel::TransportDownReason::kClosed) return;
  if (reason == channel::TransportDownReason::kLocalReset && !reported_loss_.empty() &&
      detail == reported_loss_) {
    // The echo of a loss OnTerminalLost already counted and reported.
    reported_loss_.clear();
    return;
  }
  if (!linked_) {
    // Down while handshaking: the channel reports nothing; we do.
    CountLinkDown(last_transport_down_, detail);
    const bool wrong_terminal =
        last_transport_down_ == posd::v1::DEVICE_STATE_REASON_WRONG_TERMINAL;
    if (wrong_terminal) {
      const std::string url = websocket::EndpointUrl(connected_endpoint_, record_.websocket.tls);
      LinkEvent("REFUSED", StrCat(url, ": ", detail));
      spdlog::warn("terminal {}: {}: {}", id_, url, detail);
      SetState(posd::v1::DEVICE_STATE_DISCONNECTED, last_transport_down_,
               StrCat(url, ": ", detail, "; trying the terminal's other addresses"));
    } else {
      SetState(posd::v1::DEVICE_STATE_CONNECTING, last_transport_down_,
               StrCat("link down: ", channel::TransportDownReasonName(reason), " ", detail));
    }
    // The connection that failed went to connected_endpoint_; if discovery
    // pointed the transport elsewhere since, that stands.
    if (follower_ && websocket_ != nullptr && websocket_->endpoint() == connected_endpoint_) {
      auto move = wrong_terminal ? follower_->OnWrongTerminal(connected_endpoint_)
                                 : follower_->OnAttemptFailed(connected_endpoint_);
      if (move) Follow(*move, wrong_terminal ? "another terminal answered" : "handshake failed");
    }
  }
}

void DeviceDriver::OnAnnouncement(const discovery::Announcement& announcement) {
  if (closed_ || !follower_ || websocket_ == nullptr) return;
  if (announcement.terminal_id != record_.websocket.terminal_id) return;
  const websocket::Endpoint announced{.host = announcement.address,
                                      .port = announcement.port,
                                      .path = announcement.path};
  if (absl::Status valid = websocket::ValidateEndpoint(announced); !valid.ok()) return;
  LinkEvent("DISCOVERY",
            StrCat("terminal ", announcement.terminal_id, " announced at ",
                   websocket::EndpointUrl(announced, record_.websocket.tls), " (",
                   discovery::DiscoverySourceName(announcement.source), ")"));
  auto move = follower_->OnAnnounced(announced, linked_);
  if (!move) return;
  bool waiting = false;
  {
    const std::lock_guard lock(mutex_);
    waiting = device_.state_reason() == posd::v1::DEVICE_STATE_REASON_NOT_DISCOVERED;
  }
  if (waiting) {
    SetState(posd::v1::DEVICE_STATE_CONNECTING, posd::v1::DEVICE_STATE_REASON_UNSPECIFIED,
             StrCat("connecting to ", websocket::EndpointUrl(announced, record_.websocket.tls)));
  }
  Follow(*move, "announced");
}

void DeviceDriver::Follow(const TerminalFollower::Move& move, std::string_view why) {
  if (websocket_ == nullptr || move.endpoint == websocket_->endpoint()) return;
  spdlog::info("terminal {}: {}: trying {} {}", id_, why,
               websocket::EndpointUrl(move.endpoint, record_.websocket.tls),
               move.now ? "now" : "at the next attempt");
  if (move.now) channel_->ResetHandshakeBackoff();
  (void)websocket_->SetEndpoint(move.endpoint,
                                move.now ? websocket::WebSocketClientTransport::Retry::kNow
                                         : websocket::WebSocketClientTransport::Retry::kNextAttempt);
}

void DeviceDriver::OnTerminalReady(const channel::TerminalIdentity& terminal,
                                   bool terminal_restarted) {
  linked_ = true;
  LinkEvent("HANDSHAKE",
            StrCat("terminal ", terminal.device_id, " (", terminal.model, " ",
                   terminal.firmware_version, ") ready, epoch ", terminal.session_epoch,
                   terminal_restarted ? ", restarted since the last handshake" : ""));
  {
    const std::lock_guard lock(mutex_);
    device_.set_model(terminal.model);
    device_.set_firmware_version(terminal.firmware_version);
    device_.set_protocol_version(terminal.protocol_version);
    stats_.set_handshakes(stats_.handshakes() + 1);
    *stats_.mutable_connected_since() = ToTimestamp(clock_.WallNow());
  }
  if (follower_) follower_->OnLinked(connected_endpoint_);
  spdlog::info("terminal {} ready ({} {}){}", id_, terminal.model, terminal.firmware_version,
               terminal_restarted ? ": it restarted, querying what was in flight" : "");
  RefreshBusy();
  events_.Deliver([this](engine::DeviceEvents& e) { e.OnDeviceReady(id_); });
}

void DeviceDriver::OnTerminalLost(std::string_view reason_text) {
  linked_ = false;
  const Reason reason = reason_text.rfind("transport down", 0) == 0
                            ? last_transport_down_
                            : ReasonForChannelLoss(reason_text);
  CountLinkDown(reason, reason_text);
  reported_loss_ = std::string(reason_text);
  {
    const std::lock_guard lock(mutex_);
    stats_.clear_connected_since();
    if (reason == posd::v1::DEVICE_STATE_REASON_HEARTBEAT_LOST) {
      stats_.set_heartbeats_missed(stats_.heartbeats_missed() +
                                   options_.channel.heartbeat_max_missed);
    }
  }
  spdlog::warn("terminal {} lost: {}", id_, reason_text);
  SetState(posd::v1::DEVICE_STATE_CONNECTING, reason, std::string(reason_text));
  events_.Deliver([this, &reason_text](engine::DeviceEvents& e) { e.OnLinkLost(id_, reason_text); });
  // Announced elsewhere while the link was up: look there first.
  if (follower_) {
    if (auto move = follower_->OnLinkLost(connected_endpoint_)) Follow(*move, "link lost");
  }
}

void DeviceDriver::OnProgress(const link::v1::Progress& progress) {
  engine::TransactionProgress out{.device_id = id_,
                                  .transaction_id = progress.transaction_id(),
                                  .stage = StageOf(progress.stage()),
                                  .display_message = progress.display_message()};
  events_.Deliver([&out](engine::DeviceEvents& e) { e.OnProgress(out); });
}

void DeviceDriver::OnInProgress(std::string_view transaction_id) {
  // Typically a sale an earlier run of posd started, asked about after a
  // restart: the terminal finishes it before it takes another, so a new sale
  // now would only be refused BUSY by the terminal.
  if (!busy_with_.insert(std::string(transaction_id)).second) return;
  RefreshBusy();
  if (queried_.count(transaction_id) == 0) return;
  // The engine hears the answer to its query: the terminal has the
  // transaction (IN_DOUBT -> AUTHORIZING); the outcome follows.
  engine::StatusReply reply{.device_id = id_,
                            .transaction_id = std::string(transaction_id),
                            .kind = engine::StatusReplyKind::kInProgress,
                            .result = {}};
  events_.Deliver([&reply](engine::DeviceEvents& e) { e.OnStatusReply(reply); });
}

void DeviceDriver::OnInDoubt(std::string_view transaction_id, std::string_view reason) {
  spdlog::warn("terminal {}: transaction {} in doubt: {}", id_, transaction_id, reason);
  // The engine moves what it sent to this terminal to IN_DOUBT; the channel
  // keeps asking and reports the outcome as OnOutcome.
  events_.Deliver([this, reason](engine::DeviceEvents& e) {
    e.OnLinkLost(id_, StrCat("transaction outcome unknown: ", reason));
  });
}

void DeviceDriver::OnOutcome(const channel::TransactionOutcome& outcome) {
  const std::string& id = outcome.transaction_id;
  const bool adopted = queried_.erase(id) > 0;
  busy_with_.erase(id);
  RefreshBusy();
  switch (outcome.kind) {
    case channel::TransactionOutcome::Kind::kResult: {
      engine::TransactionResult result = ResultOf(id_, outcome.result);
      result.transaction_id = id;
      result.partial_approval_declared = partial_approval_declared_;
      if (adopted) {
        engine::StatusReply reply{.device_id = id_,
                                  .transaction_id = id,
                                  .kind = engine::StatusReplyKind::kProcessed,
                                  .result = result};
        events_.Deliver([&reply](engine::DeviceEvents& e) { e.OnStatusReply(reply); });
      } else {
        events_.Deliver([&result](engine::DeviceEvents& e) { e.OnResult(result); });
      }
      break;
    }
    case channel::TransactionOutcome::Kind::kNotFound: {
      engine::StatusReply reply{.device_id = id_,
                                .transaction_id = id,
                                .kind = engine::StatusReplyKind::kNotFound,
                                .result = {}};
      events_.Deliver([&reply](engine::DeviceEvents& e) { e.OnStatusReply(reply); });
      break;
    }
    case channel::TransactionOutcome::Kind::kRefused:
    case channel::TransactionOutcome::Kind::kCanceledBeforeSending: {
      engine::TransactionResult result;
      result.device_id = id_;
      result.transaction_id = id;
      const bool refused = outcome.kind == channel::TransactionOutcome::Kind::kRefused;
      result.outcome =
          refused ? engine::TransactionOutcome::kFailed : engine::TransactionOutcome::kCanceled;
      result.message = refused ? StrCat("the terminal refused it: ",
                                        lv1::ErrorCode_Name(outcome.error.code()), " ",
                                        outcome.error.detail())
                               : "canceled before it was sent to the terminal";
      events_.Deliver([&result](engine::DeviceEvents& e) { e.OnResult(result); });
      break;
    }
  }
}

void DeviceDriver::OnDeviceInfo(const link::v1::DeviceInfo& info) {
  const std::lock_guard lock(mutex_);
  device_.set_serial_number(info.serial_number());
  if (!info.model().empty()) device_.set_model(info.model());
  if (!info.firmware_version().empty()) device_.set_firmware_version(info.firmware_version());
  device_.clear_capabilities();
  partial_approval_declared_ = false;
  for (int c : info.capabilities()) {
    device_.add_capabilities(CapabilityName(static_cast<lv1::Capability>(c)));
    partial_approval_declared_ |= c == lv1::CAPABILITY_PARTIAL_APPROVAL;
  }
}

absl::Status DeviceDriver::StartSale(const engine::SaleRequest& request) {
  if (closed_) return absl::UnavailableError(StrCat("terminal ", id_, " is being removed"));
  link::v1::Sale sale;
  sale.set_transaction_id(request.transaction_id);
  sale.set_amount_minor(request.amount_minor);
  sale.set_tip_minor(request.tip_minor);
  sale.set_currency_code(request.currency);
  if (absl::Status started = channel_->StartSale(std::move(sale)); !started.ok()) return started;
  busy_with_.insert(request.transaction_id);
  RefreshBusy();
  return absl::OkStatus();
}

absl::Status DeviceDriver::StartRefund(const engine::RefundRequest& request) {
  if (closed_) return absl::UnavailableError(StrCat("terminal ", id_, " is being removed"));
  link::v1::Refund refund;
  refund.set_transaction_id(request.transaction_id);
  refund.set_original_transaction_id(request.original_transaction_id);
  refund.set_original_terminal_reference(request.original_terminal_reference);
  refund.set_amount_minor(request.amount_minor);
  refund.set_currency_code(request.currency);
  if (absl::Status started = channel_->StartRefund(std::move(refund)); !started.ok()) {
    return started;
  }
  busy_with_.insert(request.transaction_id);
  RefreshBusy();
  return absl::OkStatus();
}

absl::Status DeviceDriver::Cancel(std::string_view transaction_id) {
  if (closed_) return absl::UnavailableError(StrCat("terminal ", id_, " is being removed"));
  return channel_->Cancel(transaction_id);
}

absl::Status DeviceDriver::QueryStatus(std::string_view transaction_id) {
  if (closed_) return absl::UnavailableError(StrCat("terminal ", id_, " is being removed"));
  absl::Status adopted = channel_->QueryTransaction(transaction_id);
  // Already in flight here: its outcome arrives anyway (as a result).
  if (adopted.code() == absl::StatusCode::kAlreadyExists) return absl::OkStatus();
  if (adopted.ok()) queried_.insert(std::string(transaction_id));
  RefreshBusy();
  return adopted;
}

posd::v1::Device DeviceDriver::Snapshot(bool with_link_stats) const {
  const std::lock_guard lock(mutex_);
  posd::v1::Device device = device_;
  if (with_link_stats) *device.mutable_link_stats() = stats_;
  return device;
}

absl::Status DeviceDriver::CheckReady() const {
  const std::lock_guard lock(mutex_);
  if (device_.state() == posd::v1::DEVICE_STATE_READY) return absl::OkStatus();
  ErrorDetails details{.reason = ErrorReason::kDeviceNotReady,
                       .subject_type = "device",
                       .subject_id = id_,
                       .metadata = {{"device_state", std::string(StateName(device_.state()))}}};
  if (device_.state() == posd::v1::DEVICE_STATE_BUSY) {
    details.metadata["busy_with"] = device_.current_transaction_id();
    return WithErrorDetails(absl::FailedPreconditionError(StrCat(
                                "terminal ", id_, " is busy with ", device_.current_transaction_id())),
                            details);
  }
  details.metadata["state_reason"] = std::string(ReasonName(device_.state_reason()));
  return WithErrorDetails(
      absl::FailedPreconditionError(
          StrCat("terminal ", id_, " is not ready: ", StateName(device_.state()), " (",
                 ReasonName(device_.state_reason()), ": ", device_.state_detail(), ")")),
      details);
}

void DeviceDriver::Record(posd::v1::TraceEntry entry) {
  entry.set_device_id(id_);
  entry.set_entry_number(next_entry_number_++);
  *entry.mutable_occurred_at() = ToTimestamp(clock_.WallNow());
  {
    const std::lock_guard lock(mutex_);
    const bool out = entry.direction() == posd::v1::TRACE_DIRECTION_OUTBOUND;
    if (entry.kind() == posd::v1::TRACE_KIND_FRAME) {
      *device_.mutable_last_seen_at() =
          out ? device_.last_seen_at() : ToTimestamp(clock_.WallNow());
      if (out) {
        stats_.set_frames_sent(stats_.frames_sent() + 1);
        stats_.set_bytes_sent(stats_.bytes_sent() + entry.size_bytes());
        if (entry.retries() > 0) stats_.set_retransmits(stats_.retransmits() + 1);
        if (entry.type() == "NAK") stats_.set_naks_sent(stats_.naks_sent() + 1);
      } else {
        stats_.set_frames_received(stats_.frames_received() + 1);
        stats_.set_bytes_received(stats_.bytes_received() + entry.size_bytes());
        if (entry.type() == "NAK") stats_.set_naks_received(stats_.naks_received() + 1);
        if (entry.type() == "BAD_FRAME") stats_.set_crc_errors(stats_.crc_errors() + 1);
        if (entry.has_latency() && entry.type() == "ACK") {
          const double ms = static_cast<double>(TimeUtil::DurationToMicroseconds(entry.latency())) / 1000.0;
          srtt_ms_ = srtt_ms_ == 0 ? ms : 0.875 * srtt_ms_ + 0.125 * ms;
          *stats_.mutable_round_trip_time() =
              TimeUtil::MicrosecondsToDuration(static_cast<int64_t>(srtt_ms_ * 1000));
        }
      }
    } else if (entry.kind() == posd::v1::TRACE_KIND_MESSAGE) {
      if (out) {
        stats_.set_messages_sent(stats_.messages_sent() + 1);
      } else {
        stats_.set_messages_received(stats_.messages_received() + 1);
      }
    }
    if (serial_ != nullptr) {
      const link::LinkStats link = serial_->stats();
      stats_.set_duplicates_dropped(link.duplicates_dropped);
      stats_.set_resyncs(link.resyncs);
    }
  }
  recorder_->Add(entry);
  fanout_->Publish(entry);
}

void DeviceDriver::LinkEvent(std::string_view type, std::string_view summary,
                             std::string_view error) {
  posd::v1::TraceEntry entry;
  entry.set_kind(posd::v1::TRACE_KIND_LINK_EVENT);
  entry.set_type(std::string(type));
  entry.set_summary(std::string(summary));
  entry.set_error(std::string(error));
  Record(std::move(entry));
}

void DeviceDriver::SetState(State state, Reason reason, std::string detail) {
  bool changed = false;
  {
    const std::lock_guard lock(mutex_);
    changed = device_.state() != state || device_.state_reason() != reason;
    if (changed) *device_.mutable_state_changed_at() = ToTimestamp(clock_.WallNow());
    device_.set_state(state);
    device_.set_state_reason(reason);
    device_.set_state_detail(std::move(detail));
    if (state != posd::v1::DEVICE_STATE_BUSY) device_.clear_current_transaction_id();
  }
  if (changed) {
    spdlog::info("terminal {}: {} ({})", id_, StateName(state), ReasonName(reason));
    events_.NotifyDevice(Snapshot(/*with_link_stats=*/false));
  }
}

void DeviceDriver::RefreshBusy() {
  in_flight_ = channel_ ? channel_->in_flight() : 0;
  if (!linked_ || closed_) return;
  if (busy_with_.empty()) {
    SetState(posd::v1::DEVICE_STATE_READY, posd::v1::DEVICE_STATE_REASON_UNSPECIFIED,
             StrCat("linked on ", link_name_));
    return;
  }
  SetState(posd::v1::DEVICE_STATE_BUSY, posd::v1::DEVICE_STATE_REASON_TRANSACTION_IN_PROGRESS,
           StrCat("processing ", *busy_with_.begin()));
  const std::lock_guard lock(mutex_);
  device_.set_current_transaction_id(*busy_with_.begin());
}

void DeviceDriver::CountLinkDown(Reason reason, std::string_view detail) {
  const std::lock_guard lock(mutex_);
  stats_.set_link_downs(stats_.link_downs() + 1);
  bool found = false;
  for (auto& count : *stats_.mutable_link_downs_by_reason()) {
    if (count.reason() == reason) {
      count.set_count(count.count() + 1);
      found = true;
    }
  }
  if (!found) {
    auto* count = stats_.add_link_downs_by_reason();
    count->set_reason(reason);
    count->set_count(1);
  }
  stats_.set_last_link_down_reason(reason);
  stats_.set_last_link_down_detail(std::string(detail));
  *stats_.mutable_last_link_down_at() = ToTimestamp(clock_.WallNow());
}

}  // namespace posd::devices
