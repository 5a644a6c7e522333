#include "service/channel/serial_link_transport.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <utility>

#include "service/common/strings.h"

namespace posd::channel {
namespace {

link::TimePoint Now() { return std::chrono::steady_clock::now(); }

TransportDownReason FromLink(link::LinkDownReason reason) {
  switch (reason) {
    case link::LinkDownReason::kRetriesExhausted: return TransportDownReason::kRetriesExhausted;
    case link::LinkDownReason::kPeerRestarted: return TransportDownReason::kPeerRestarted;
    case link::LinkDownReason::kLocalReset: return TransportDownReason::kLocalReset;
    case link::LinkDownReason::kNone: break;
  }
  return TransportDownReason::kNone;
}

}  // namespace

struct SerialLinkTransport::Timers {
  explicit Timers(boost::asio::io_context& io) : link(io), reopen(io) {}
  boost::asio::steady_timer link;
  boost::asio::steady_timer reopen;
};

absl::StatusOr<std::unique_ptr<SerialLinkTransport>> SerialLinkTransport::Create(
    boost::asio::io_context& io, ByteStreamOpener opener, SerialLinkTransportOptions options,
    link::EpochSource epochs) {
  if (absl::Status s = link::ValidateLinkConfig(options.link); !s.ok()) return s;
  if (!opener) return absl::InvalidArgumentError("serial link transport: an opener is required");
  if (!epochs) return absl::InvalidArgumentError("serial link transport: no epoch source");
  return std::unique_ptr<SerialLinkTransport>(
      new SerialLinkTransport(io, std::move(opener), std::move(options), std::move(epochs)));
}

SerialLinkTransport::SerialLinkTransport(boost::asio::io_context& io, ByteStreamOpener opener,
                                         SerialLinkTransportOptions options,
                                         link::EpochSource epochs)
    : io_(io),
      opener_(std::move(opener)),
      options_(std::move(options)),
      epochs_(std::move(epochs)),
      reopen_delay_(options_.reopen_initial),
      timers_(std::make_unique<Timers>(io)) {}

SerialLinkTransport::~SerialLinkTransport() {
  Close();
  *alive_ = false;
}

void SerialLinkTransport::Start(MessageTransportHandler* handler) {
  if (handler_ != nullptr || closed_) return;
  handler_ = handler;
  OpenStream();
}

void SerialLinkTransport::OpenStream() {
  if (closed_) return;
  absl::StatusOr<std::unique_ptr<transport::ByteStream>> stream = opener_();
  if (!stream.ok()) {
    spdlog::warn("{}: cannot open: {}", options_.description, stream.status().ToString());
    ScheduleReopen();
    return;
  }
  reopen_delay_ = options_.reopen_initial;
  stream_ = *std::move(stream);
  transport::ByteStreamHandlers handlers;
  handlers.on_data = [this](std::span<const uint8_t> bytes) { OnBytes(bytes); };
  handlers.on_closed = [this](const absl::Status& status) { OnStreamClosed(status); };
  stream_->Start(std::move(handlers));
  NewSession();
  Collect();
}

void SerialLinkTransport::ScheduleReopen() {
  timers_->reopen.expires_after(reopen_delay_);
  reopen_delay_ = std::min(reopen_delay_ * 2, options_.reopen_max);
  timers_->reopen.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || closed_) return;
    OpenStream();
  });
}

void SerialLinkTransport::NewSession() {
  absl::StatusOr<std::unique_ptr<link::LinkSession>> session =
      link::LinkSession::Create(options_.link, epochs_, Now());
  // Create validated the config already; only a bug makes this fail.
  if (!session.ok()) {
    spdlog::error("{}: {}", options_.description, session.status().ToString());
    return;
  }
  session_ = *std::move(session);
}

void SerialLinkTransport::OnBytes(std::span<const uint8_t> bytes) {
  if (!session_) return;
  // Fed one delimited block at a time: LinkActions keeps events and delivered
  // messages in separate lists, and one frame's actions can always be
  // ordered (down, then up, then messages); a whole read could mix sessions.
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != link::kDelimiter) continue;
    session_->OnBytesReceived(bytes.subspan(start, i + 1 - start), Now());
    Collect();
    start = i + 1;
    if (!session_) return;
  }
  if (start < bytes.size()) {
    session_->OnBytesReceived(bytes.subspan(start), Now());
    Collect();
  }
  Dispatch();
}

void SerialLinkTransport::OnStreamClosed(const absl::Status& status) {
  spdlog::warn("{}: stream closed: {}", options_.description, status.ToString());
  timers_->link.cancel();
  session_.reset();
  // Destroying the stream from its own callback is allowed (byte_stream.h).
  stream_.reset();
  if (up_reported_) {
    Event event;
    event.kind = Event::Kind::kDown;
    event.reason = TransportDownReason::kStreamFailed;
    event.detail = std::string(status.message());
    pending_.push_back(std::move(event));
  }
  Dispatch();
  ScheduleReopen();
}

void SerialLinkTransport::OnTimer() {
  if (!session_) return;
  session_->OnTimer(Now());
  Collect();
  Dispatch();
}

void SerialLinkTransport::Collect() {
  if (!session_) return;
  link::LinkActions actions = session_->TakeActions();
  if (!actions.bytes_to_send.empty()) WriteOut(std::move(actions.bytes_to_send));
  bool replace_session = false;
  for (link::LinkEvent& e : actions.events) {
    Event event;
    switch (e.kind) {
      case link::LinkEvent::Kind::kUp:
        event.kind = Event::Kind::kUp;
        event.detail = StrCat("link epochs ", e.local_epoch, "/", e.peer_epoch);
        pending_.push_back(std::move(event));
        break;
      case link::LinkEvent::Kind::kDown:
        event.kind = Event::Kind::kDown;
        event.reason = FromLink(e.reason);
        event.detail = std::string(link::LinkDownReasonName(e.reason));
        pending_.push_back(std::move(event));
        // Messages still queued in the session would open the next one.
        if (session_->pending_messages() > 0) replace_session = true;
        break;
      case link::LinkEvent::Kind::kMessageRejected:
        // The peer accepts smaller messages than ours: the message is gone;
        // the channel's timeouts notice the missing answer.
        spdlog::error("{}: message {} rejected: larger than the peer accepts",
                      options_.description, e.message);
        break;
    }
  }
  for (std::vector<uint8_t>& message : actions.delivered) {
    Event event;
    event.kind = Event::Kind::kMessage;
    event.message = std::move(message);
    pending_.push_back(std::move(event));
  }
  if (replace_session) {
    NewSession();
    if (session_) {
      link::LinkActions fresh = session_->TakeActions();
      if (!fresh.bytes_to_send.empty()) WriteOut(std::move(fresh.bytes_to_send));
    }
  }
  ArmTimer();
}

void SerialLinkTransport::WriteOut(std::vector<uint8_t> bytes) {
  if (!stream_ || !stream_->is_open()) return;
  if (stream_->queued_bytes() > options_.max_queued_output_bytes) return;
  // A failed write also closes the stream; on_closed reports it.
  (void)stream_->Write(std::move(bytes));
}

void SerialLinkTransport::ArmTimer() {
  if (!session_) return;
  std::optional<link::TimePoint> deadline = session_->NextDeadline();
  if (!deadline) {
    timers_->link.cancel();
    return;
  }
  timers_->link.expires_at(*deadline);
  timers_->link.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || closed_) return;
    OnTimer();
  });
}

void SerialLinkTransport::Dispatch() {
  while (!pending_.empty() && !closed_ && handler_ != nullptr) {
    Event event = std::move(pending_.front());
    pending_.pop_front();
    switch (event.kind) {
      case Event::Kind::kUp:
        if (up_reported_) break;
        up_reported_ = true;
        spdlog::debug("{}: up ({})", options_.description, event.detail);
        handler_->OnTransportUp();
        break;
      case Event::Kind::kDown:
        if (!up_reported_) break;
        up_reported_ = false;
        spdlog::info("{}: down ({})", options_.description, event.detail);
        handler_->OnTransportDown(event.reason, event.detail);
        break;
      case Event::Kind::kMessage:
        if (up_reported_) handler_->OnMessage(event.message);
        break;
    }
  }
}

void SerialLinkTransport::PostDispatch() {
  if (dispatch_posted_ || pending_.empty()) return;
  dispatch_posted_ = true;
  boost::asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    dispatch_posted_ = false;
    Dispatch();
  });
}

absl::Status SerialLinkTransport::Send(std::span<const uint8_t> message) {
  if (closed_ || !session_ || session_->state() != link::LinkState::kUp) {
    return absl::FailedPreconditionError(StrCat(options_.description, ": link is down"));
  }
  absl::StatusOr<link::MessageId> id = session_->Send(message, Now());
  if (!id.ok()) return id.status();
  Collect();
  PostDispatch();
  return absl::OkStatus();
}

void SerialLinkTransport::Reset(std::string_view why) {
  if (closed_ || !stream_) return;
  spdlog::info("{}: reset: {}", options_.description, why);
  if (up_reported_) {
    Event event;
    event.kind = Event::Kind::kDown;
    event.reason = TransportDownReason::kLocalReset;
    event.detail = std::string(why);
    pending_.push_back(std::move(event));
  }
  // A fresh session (new link epoch) rather than Restart(): Restart keeps
  // untransmitted messages for the next session.
  NewSession();
  Collect();
  PostDispatch();
}

void SerialLinkTransport::Close() {
  if (closed_) return;
  closed_ = true;
  pending_.clear();
  timers_->link.cancel();
  timers_->reopen.cancel();
  if (stream_) stream_->Close();
  stream_.reset();
  session_.reset();
}

bool SerialLinkTransport::is_up() const {
  return !closed_ && session_ && session_->state() == link::LinkState::kUp;
}

absl::Status SerialLinkTransport::WriteRaw(std::vector<uint8_t> bytes) {
  if (!stream_ || !stream_->is_open()) {
    return absl::FailedPreconditionError(StrCat(options_.description, ": not open"));
  }
  return stream_->Write(std::move(bytes));
}

link::LinkStats SerialLinkTransport::stats() const {
  return session_ ? session_->stats() : link::LinkStats{};
}

}  // namespace posd::channel
