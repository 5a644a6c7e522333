// MessageTransport over a serial line: the link layer's ARQ state machine
// (link::LinkSession) driven by a transport::ByteStream on a Boost.Asio
// io_context. Received bytes are fed to the session, its output is written to
// the stream, and an Asio steady_timer fires at its NextDeadline().
//
// The stream comes from an opener, called at Start and again (with backoff)
// whenever the stream fails, so an unplugged USB adapter, or a pseudo-terminal
// whose simulator restarted behind a stable symlink, is reopened by path.
//
// Every up period uses a link session of its own: if a session ends with
// messages still queued in it, it is replaced by a fresh one (new link epoch),
// so nothing sent in one up period reaches the peer in the next (see
// message_transport.h).
//
// Output is dropped, not queued, while the stream holds more than
// `max_queued_output_bytes` unwritten (nobody reads the line, e.g. a
// simulator's pty before posd opens it): the link layer retransmits anyway.
//
// Threading: confined to the io_context's thread (message_transport.h). The
// io_context must outlive the transport. Destroying it closes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/channel/message_transport.h"
#include "service/link/link_config.h"
#include "service/link/link_session.h"
#include "service/transport/byte_stream.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::channel {

using ByteStreamOpener =
    std::function<absl::StatusOr<std::unique_ptr<transport::ByteStream>>()>;

struct SerialLinkTransportOptions {
  link::LinkConfig link;
  // Shown in logs and description(), e.g. "serial /dev/ttyUSB0".
  std::string description = "serial";
  // Delay before reopening a failed stream: doubles from initial to max.
  link::Duration reopen_initial = std::chrono::milliseconds(200);
  link::Duration reopen_max = std::chrono::seconds(5);
  size_t max_queued_output_bytes = 8192;
};

class SerialLinkTransport final : public MessageTransport {
 public:
  // INVALID_ARGUMENT if the link configuration is invalid or `opener` is
  // empty. Nothing is opened before Start.
  static absl::StatusOr<std::unique_ptr<SerialLinkTransport>> Create(
      boost::asio::io_context& io, ByteStreamOpener opener, SerialLinkTransportOptions options,
      link::EpochSource epochs = link::RandomEpochSource());

  ~SerialLinkTransport() override;
  SerialLinkTransport(const SerialLinkTransport&) = delete;
  SerialLinkTransport& operator=(const SerialLinkTransport&) = delete;

  void Start(MessageTransportHandler* handler) override;
  absl::Status Send(std::span<const uint8_t> message) override;
  void Reset(std::string_view why) override;
  void Close() override;
  bool is_up() const override;
  std::string_view description() const override { return options_.description; }

  // Writes bytes to the line outside any frame, as line noise would (the
  // simulator's "garbage" fault). FAILED_PRECONDITION without an open stream.
  absl::Status WriteRaw(std::vector<uint8_t> bytes);

  // Counters of the current link session (zeros before the first).
  link::LinkStats stats() const;

 private:
  struct Event {
    enum class Kind { kUp, kDown, kMessage } kind = Kind::kUp;
    TransportDownReason reason = TransportDownReason::kNone;
    std::string detail;
    std::vector<uint8_t> message;
  };

  SerialLinkTransport(boost::asio::io_context& io, ByteStreamOpener opener,
                      SerialLinkTransportOptions options, link::EpochSource epochs);

  void OpenStream();
  void ScheduleReopen();
  void NewSession();
  void OnBytes(std::span<const uint8_t> bytes);
  void OnStreamClosed(const absl::Status& status);
  void OnTimer();
  // Moves the session's actions into pending_ / the stream; re-arms the timer.
  void Collect();
  void Dispatch();
  void PostDispatch();
  void ArmTimer();
  void WriteOut(std::vector<uint8_t> bytes);

  boost::asio::io_context& io_;
  ByteStreamOpener opener_;
  const SerialLinkTransportOptions options_;
  link::EpochSource epochs_;
  MessageTransportHandler* handler_ = nullptr;
  std::unique_ptr<transport::ByteStream> stream_;
  std::unique_ptr<link::LinkSession> session_;
  std::deque<Event> pending_;
  bool up_reported_ = false;  // the handler was last told "up"
  bool closed_ = false;
  bool dispatch_posted_ = false;
  link::Duration reopen_delay_;
  struct Timers;
  std::unique_ptr<Timers> timers_;
  // Cleared on destruction so queued Asio handlers do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace posd::channel
