#include "service/devices/tracing_transport.h"

#include <string>

#include "google/protobuf/util/time_util.h"
#include "service/channel/envelope_codec.h"
#include "service/common/strings.h"

namespace posd::devices {
namespace {

using google::protobuf::util::TimeUtil;
namespace lv1 = ::posd::link::v1;

constexpr size_t kMaxTrackedMessages = 256;

std::string Money(int64_t minor, std::string_view currency) {
  const int64_t whole = minor / 100;
  const int64_t cents = (minor < 0 ? -minor : minor) % 100;
  return StrCat(whole, ".", cents < 10 ? "0" : "", cents, " ", currency);
}

// The transaction an envelope concerns and a one-line decoding of it.
std::pair<std::string, std::string> Describe(const lv1::Envelope& e) {
  switch (e.body_case()) {
    case lv1::Envelope::kSale:
      return {e.sale().transaction_id(),
              StrCat("sale tx=", e.sale().transaction_id(), " ",
                     Money(e.sale().amount_minor(), e.sale().currency_code()),
                     e.sale().tip_minor() > 0 ? StrCat(" tip ", e.sale().tip_minor()) : "")};
    case lv1::Envelope::kRefund:
      return {e.refund().transaction_id(),
              StrCat("refund tx=", e.refund().transaction_id(), " of ",
                     e.refund().original_transaction_id())};
    case lv1::Envelope::kCancel:
      return {e.cancel().transaction_id(), StrCat("cancel tx=", e.cancel().transaction_id())};
    case lv1::Envelope::kStatusQuery:
      return {e.status_query().transaction_id(),
              StrCat("status query tx=", e.status_query().transaction_id())};
    case lv1::Envelope::kStatusReply:
      return {e.status_reply().transaction_id(),
              StrCat("status reply tx=", e.status_reply().transaction_id(), " ",
                     lv1::TransactionState_Name(e.status_reply().state()),
                     e.status_reply().has_result()
                         ? StrCat(" ", lv1::Outcome_Name(e.status_reply().result().outcome()))
                         : "")};
    case lv1::Envelope::kProgress:
      return {e.progress().transaction_id(),
              StrCat("progress tx=", e.progress().transaction_id(), " ",
                     lv1::ProgressStage_Name(e.progress().stage()))};
    case lv1::Envelope::kResult:
      return {e.result().transaction_id(),
              StrCat("result tx=", e.result().transaction_id(), " ",
                     lv1::Outcome_Name(e.result().outcome()), " ", e.result().card_brand(), " ",
                     Money(e.result().amount_minor(), e.result().currency_code()),
                     e.result().approval_code().empty()
                         ? ""
                         : StrCat(" approval ", e.result().approval_code()))};
    case lv1::Envelope::kHello:
      return {"", StrCat("hello epoch=", e.hello().session_epoch())};
    case lv1::Envelope::kHelloAck:
      return {e.hello_ack().in_progress_transaction_id(),
              StrCat("hello ack epoch=", e.hello_ack().session_epoch(), " model=",
                     e.hello_ack().model(), " last_processed=",
                     e.hello_ack().last_processed_message_id())};
    case lv1::Envelope::kHeartbeatAck:
      return {e.heartbeat_ack().in_progress_transaction_id(), "heartbeat ack"};
    case lv1::Envelope::kError:
      return {e.error().transaction_id(),
              StrCat("error ", lv1::ErrorCode_Name(e.error().code()), " ", e.error().detail())};
    default: return {"", std::string(channel::BodyName(e))};
  }
}

}  // namespace

TracingTransport::TracingTransport(std::unique_ptr<channel::MessageTransport> inner,
                                   TraceSink sink, TransportDownObserver on_down)
    : inner_(std::move(inner)), sink_(std::move(sink)), on_down_(std::move(on_down)) {}

TracingTransport::~TracingTransport() { inner_->Close(); }

void TracingTransport::Start(channel::MessageTransportHandler* handler) {
  handler_ = handler;
  inner_->Start(this);
}

absl::Status TracingTransport::Send(std::span<const uint8_t> message) {
  absl::Status sent = inner_->Send(message);
  if (sent.ok()) {
    ++messages_sent_;
    Trace(message, /*inbound=*/false);
  }
  return sent;
}

void TracingTransport::Reset(std::string_view why) {
  posd::v1::TraceEntry entry;
  entry.set_kind(posd::v1::TRACE_KIND_LINK_EVENT);
  entry.set_type("TIMEOUT");
  entry.set_error(std::string(why));
  entry.set_summary(StrCat("link reset: ", why));
  sink_(std::move(entry));
  inner_->Reset(why);
}

void TracingTransport::Close() { inner_->Close(); }

void TracingTransport::OnTransportUp() {
  posd::v1::TraceEntry entry;
  entry.set_kind(posd::v1::TRACE_KIND_LINK_EVENT);
  entry.set_type("UP");
  entry.set_summary(StrCat("link up on ", inner_->description()));
  sink_(std::move(entry));
  handler_->OnTransportUp();
}

void TracingTransport::OnTransportDown(channel::TransportDownReason reason,
                                       std::string_view detail) {
  sent_at_.clear();
  posd::v1::TraceEntry entry;
  entry.set_kind(posd::v1::TRACE_KIND_LINK_EVENT);
  entry.set_type(reason == channel::TransportDownReason::kPeerRestarted ? "RESYNC" : "DOWN");
  entry.set_error(StrCat(channel::TransportDownReasonName(reason), ": ", detail));
  entry.set_summary(StrCat("link down: ", channel::TransportDownReasonName(reason), " ", detail));
  sink_(std::move(entry));
  if (on_down_) on_down_(reason, detail);
  handler_->OnTransportDown(reason, detail);
}

void TracingTransport::OnMessage(std::span<const uint8_t> message) {
  ++messages_received_;
  Trace(message, /*inbound=*/true);
  handler_->OnMessage(message);
}

void TracingTransport::Trace(std::span<const uint8_t> message, bool inbound) {
  posd::v1::TraceEntry entry;
  entry.set_kind(posd::v1::TRACE_KIND_MESSAGE);
  entry.set_direction(inbound ? posd::v1::TRACE_DIRECTION_INBOUND
                              : posd::v1::TRACE_DIRECTION_OUTBOUND);
  entry.set_size_bytes(static_cast<uint32_t>(message.size()));
  entry.set_payload(std::string(message.begin(), message.end()));
  auto envelope = channel::DecodeEnvelope(message);
  if (!envelope.ok()) {
    entry.set_type("undecodable");
    entry.set_error(StrCat("not an envelope: ", envelope.status().message()));
    sink_(std::move(entry));
    return;
  }
  entry.set_type(std::string(channel::BodyName(*envelope)));
  entry.set_message_id(envelope->message_id());
  entry.set_correlation_id(envelope->correlation_id());
  auto [transaction, summary] = Describe(*envelope);
  entry.set_transaction_id(std::move(transaction));
  entry.set_summary(std::move(summary));
  if (envelope->body_case() == link::v1::Envelope::kError) {
    entry.set_error(envelope->error().detail());
  }
  const auto now = std::chrono::steady_clock::now();
  if (!inbound) {
    if (sent_at_.size() >= kMaxTrackedMessages) sent_at_.erase(sent_at_.begin());
    sent_at_[envelope->message_id()] = now;
  } else if (envelope->correlation_id() != 0) {
    if (auto it = sent_at_.find(envelope->correlation_id()); it != sent_at_.end()) {
      *entry.mutable_latency() = TimeUtil::NanosecondsToDuration(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - it->second).count());
    }
  }
  sink_(std::move(entry));
}

}  // namespace posd::devices
