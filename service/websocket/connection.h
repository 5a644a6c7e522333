// Internal to posd_websocket: one established WebSocket connection, shared by
// the client and server transports. Included only by their .cc files, the
// only translation units that compile Boost.Beast.
//
// A connection owns its stream, a read loop, a write queue with one write in
// flight, the ping timer and the dead-peer timer (websocket_options.h). The
// owner sees whole messages and one on_closed, never bytes.
//
// Threading: confined to the io_context's thread. Lifetime: shared; every
// pending Asio operation holds a reference, so Abort() may be called from a
// callback and the owner may drop its pointer at any time.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "service/common/strings.h"
#include "service/websocket/websocket_options.h"

namespace posd::websocket::internal {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ws = boost::beast::websocket;

using PlainStream = ws::stream<beast::tcp_stream>;
using TlsStream = ws::stream<beast::ssl_stream<beast::tcp_stream>>;

struct ConnectionCallbacks {
  std::function<void(std::span<const uint8_t> message)> on_message;
  // Called once when the connection ends by itself (peer, error, dead
  // peer); never after Abort().
  std::function<void(const absl::Status& why)> on_closed;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Starts reading, pinging and watching for a dead peer. Call once, after
  // the WebSocket handshake.
  virtual void Run(ConnectionCallbacks callbacks) = 0;
  // Queues one binary message. INVALID_ARGUMENT above the maximum size,
  // RESOURCE_EXHAUSTED when the queue is full, FAILED_PRECONDITION when closed.
  virtual absl::Status Send(std::span<const uint8_t> message) = 0;
  // Closes the socket now (no close handshake: a lost connection and a
  // closed one look the same to the protocol above). No callback afterwards.
  virtual void Abort() = 0;
  virtual bool closed() const = 0;
};

inline std::string_view FromBeast(beast::string_view text) { return {text.data(), text.size()}; }
inline beast::string_view ToBeast(std::string_view text) { return {text.data(), text.size()}; }

// "peer closed the connection", "connection reset by peer", ... for logs.
inline std::string Describe(const beast::error_code& ec) { return ec.message(); }

template <class Stream>
class ConnectionImpl final : public Connection,
                             public std::enable_shared_from_this<ConnectionImpl<Stream>> {
 public:
  template <class... Args>
  explicit ConnectionImpl(const WebSocketOptions& options, Args&&... args)
      : options_(options),
        ws_(std::forward<Args>(args)...),
        ping_timer_(ws_.get_executor()),
        dead_timer_(ws_.get_executor()) {
    ws_.read_message_max(options_.max_message_size);
    ws_.binary(true);
    ws_.set_option(ws::stream_base::timeout{options_.handshake_timeout,
                                            ws::stream_base::none(), false});
  }

  Stream& ws() { return ws_; }

  void Run(ConnectionCallbacks callbacks) override {
    callbacks_ = std::move(callbacks);
    // From here on our own timers watch the peer; the TCP layer's
    // deadline (used during the handshake) would cut a healthy connection.
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(ws::stream_base::timeout{options_.handshake_timeout,
                                            ws::stream_base::none(), false});
    ws_.control_callback([this](ws::frame_type, beast::string_view) { Heard(); });
    Heard();
    ReadNext();
    ArmPing();
    ArmDeadline();
  }

  absl::Status Send(std::span<const uint8_t> message) override {
    if (done_) return absl::FailedPreconditionError("websocket: connection closed");
    if (message.size() > options_.max_message_size) {
      return absl::InvalidArgumentError(StrCat("websocket: message of ", message.size(),
                                               " bytes exceeds the maximum of ",
                                               options_.max_message_size));
    }
    if (queue_.size() >= options_.max_queued_messages) {
      return absl::ResourceExhaustedError(
          StrCat("websocket: ", queue_.size(), " messages already queued"));
    }
    queue_.emplace_back(message.begin(), message.end());
    if (!writing_) WriteNext();
    return absl::OkStatus();
  }

  void Abort() override {
    callbacks_ = {};
    Shut();
  }

  bool closed() const override { return done_; }

 private:
  void Heard() { last_heard_ = std::chrono::steady_clock::now(); }

  void ReadNext() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](const beast::error_code& ec,
                                                              size_t) { self->OnRead(ec); });
  }

  void OnRead(const beast::error_code& ec) {
    if (done_) return;
    if (ec) {
      Fail(ReadError(ec));
      return;
    }
    Heard();
    const auto data = buffer_.cdata();
    // Copied: the handler may Abort (and so drop the buffer's owner).
    std::vector<uint8_t> message(static_cast<const uint8_t*>(data.data()),
                                 static_cast<const uint8_t*>(data.data()) + data.size());
    buffer_.consume(buffer_.size());
    if (!ws_.got_binary()) {
      Fail(absl::InvalidArgumentError("websocket: the peer sent a text message"));
      return;
    }
    if (callbacks_.on_message) callbacks_.on_message(message);
    if (!done_) ReadNext();
  }

  absl::Status ReadError(const beast::error_code& ec) {
    if (ec == ws::error::closed) {
      const ws::close_reason& reason = ws_.reason();
      return absl::UnavailableError(StrCat("websocket: the peer closed the connection (code ",
                                           reason.code, reason.reason.empty() ? "" : " ",
                                           std::string(reason.reason.c_str()), ")"));
    }
    if (ec == ws::error::message_too_big || ec == ws::error::buffer_overflow) {
      return absl::InvalidArgumentError(
          StrCat("websocket: the peer sent a message larger than the maximum of ",
                 options_.max_message_size, " bytes"));
    }
    return absl::UnavailableError(StrCat("websocket: connection lost: ", Describe(ec)));
  }

  void WriteNext() {
    writing_ = true;
    ws_.async_write(net::buffer(queue_.front()),
                    [self = this->shared_from_this()](const beast::error_code& ec, size_t) {
                      self->OnWritten(ec);
                    });
  }

  void OnWritten(const beast::error_code& ec) {
    writing_ = false;
    if (done_) return;
    if (ec) {
      Fail(absl::UnavailableError(StrCat("websocket: write failed: ", Describe(ec))));
      return;
    }
    queue_.pop_front();
    if (!queue_.empty()) WriteNext();
  }

  void ArmPing() {
    ping_timer_.expires_after(options_.ping_interval);
    ping_timer_.async_wait([self = this->shared_from_this()](const beast::error_code& ec) {
      if (ec || self->done_) return;
      if (!self->pinging_) {
        self->pinging_ = true;
        self->ws_.async_ping({}, [self](const beast::error_code& pec) {
          self->pinging_ = false;
          if (pec && !self->done_) {
            self->Fail(absl::UnavailableError(StrCat("websocket: ping failed: ", Describe(pec))));
          }
        });
      }
      self->ArmPing();
    });
  }

  void ArmDeadline() {
    dead_timer_.expires_at(last_heard_ + options_.dead_peer_timeout);
    dead_timer_.async_wait([self = this->shared_from_this()](const beast::error_code& ec) {
      if (ec || self->done_) return;
      if (std::chrono::steady_clock::now() - self->last_heard_ < self->options_.dead_peer_timeout) {
        self->ArmDeadline();
        return;
      }
      self->Fail(absl::DeadlineExceededError(StrCat(
          "websocket: dead peer: nothing received for ",
          std::chrono::duration_cast<std::chrono::milliseconds>(self->options_.dead_peer_timeout)
              .count(),
          " ms (pings unanswered)")));
    });
  }

  void Fail(const absl::Status& why) {
    if (done_) return;
    auto on_closed = std::move(callbacks_.on_closed);
    callbacks_ = {};
    Shut();
    if (on_closed) on_closed(why);
  }

  void Shut() {
    if (done_) return;
    done_ = true;
    ping_timer_.cancel();
    dead_timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  const WebSocketOptions options_;
  Stream ws_;
  net::steady_timer ping_timer_;
  net::steady_timer dead_timer_;
  beast::flat_buffer buffer_;
  std::deque<std::vector<uint8_t>> queue_;
  ConnectionCallbacks callbacks_;
  std::chrono::steady_clock::time_point last_heard_{};
  bool writing_ = false;
  bool pinging_ = false;
  bool done_ = false;
};

}  // namespace posd::websocket::internal
