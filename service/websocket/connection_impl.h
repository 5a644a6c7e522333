// Internal to posd_websocket, included only by plain_connection.cc and
// tls_connection.cc (connection.h says why): the connection over one Beast
// stream type and the client and server handshakes that produce it.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "service/common/strings.h"
#include "service/websocket/connection.h"
#include "service/websocket/websocket_options.h"

namespace posd::websocket::internal {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ws = boost::beast::websocket;

using PlainStream = ws::stream<beast::tcp_stream>;
using TlsStream = ws::stream<beast::ssl_stream<beast::tcp_stream>>;

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


namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace wsb = boost::beast::websocket;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;

// posd's end.

inline std::string HostHeader(const Endpoint& endpoint) {
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  return StrCat(v6 ? "[" : "", endpoint.host, v6 ? "]" : "", ":", endpoint.port);
}

template <class Stream>
void Upgrade(std::shared_ptr<ConnectionImpl<Stream>> conn, const Endpoint& endpoint,
             ClientHandshakeDone done) {
  // The WebSocket layer's handshake timeout takes over from the TCP one.
  beast::get_lowest_layer(conn->ws()).expires_never();
  conn->ws().set_option(wsb::stream_base::decorator([](wsb::request_type& request) {
    request.set(http::field::sec_websocket_protocol, ToBeast(kSubprotocol));
    request.set(http::field::user_agent, "posd");
  }));
  auto response = std::make_shared<wsb::response_type>();
  conn->ws().async_handshake(
      *response, HostHeader(endpoint), endpoint.path,
      [conn, response, done = std::move(done)](const beast::error_code& ec) {
        if (ec) {
          done(ConnectStage::kUpgrade,
               absl::UnavailableError(StrCat("websocket upgrade failed: ", ec.message(),
                                             response->result_int() != 0
                                                 ? StrCat(" (HTTP ", response->result_int(), ")")
                                                 : "")));
          return;
        }
        const auto offered = (*response)[http::field::sec_websocket_protocol];
        if (FromBeast(offered) != kSubprotocol) {
          done(ConnectStage::kUpgrade,
               absl::FailedPreconditionError(StrCat("the terminal did not accept subprotocol ",
                                                    kSubprotocol, " (answered '",
                                                    FromBeast(offered), "')")));
          return;
        }
        done(ConnectStage::kConnected, absl::OkStatus());
      });
}

// TCP connect, TLS (for TlsStream), then the upgrade.
template <class Stream>
void ClientHandshake(std::shared_ptr<ConnectionImpl<Stream>> conn,
                     const tcp::resolver::results_type& targets, const Endpoint& endpoint,
                     const ClientTls& tls, const WebSocketOptions& options,
                     ClientHandshakeDone done) {
  beast::get_lowest_layer(conn->ws()).expires_after(options.handshake_timeout);
  beast::get_lowest_layer(conn->ws())
      .async_connect(targets, [conn, endpoint, tls, done = std::move(done)](
                                  const beast::error_code& ec, const tcp::endpoint&) mutable {
        if (ec) {
          done(ConnectStage::kConnect,
               ec == beast::error::timeout
                   ? absl::DeadlineExceededError("TCP connect timed out")
                   : absl::UnavailableError(StrCat("TCP connect failed: ", ec.message())));
          return;
        }
        if constexpr (std::is_same_v<Stream, TlsStream>) {
          SSL* ssl = conn->ws().next_layer().native_handle();
          const std::string name = tls.server_name.empty() ? endpoint.host : tls.server_name;
          beast::error_code not_ip;
          net::ip::make_address(name, not_ip);
          if (not_ip) {
            SSL_set_tlsext_host_name(ssl, name.c_str());
            SSL_set1_host(ssl, name.c_str());
          } else {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
          }
          conn->ws().next_layer().set_verify_mode(ssl::verify_peer);
          conn->ws().next_layer().async_handshake(
              ssl::stream_base::client,
              [conn, endpoint, done = std::move(done)](const beast::error_code& tls_ec) mutable {
                if (tls_ec) {
                  done(ConnectStage::kTls,
                       absl::UnavailableError(StrCat("TLS handshake failed: ", tls_ec.message())));
                  return;
                }
                Upgrade(conn, endpoint, std::move(done));
              });
        } else {
          Upgrade(conn, endpoint, std::move(done));
        }
      });
}

// The terminal's end.

inline bool OffersSubprotocol(std::string_view header) {
  size_t start = 0;
  while (start <= header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == kSubprotocol) return true;
    start = end + 1;
  }
  return false;
}

// Why the request cannot be upgraded (HTTP status and text), or OK.
inline std::pair<http::status, std::string> CheckUpgradeRequest(const Request& request, std::string_view path) {
  std::string_view target = FromBeast(request.target());
  if (const size_t q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target != path) {
    return {http::status::not_found, StrCat("no WebSocket endpoint at ", target, "\n")};
  }
  if (!wsb::is_upgrade(request)) {
    return {http::status::upgrade_required, "this is a posd terminal: WebSocket only\n"};
  }
  if (!OffersSubprotocol(FromBeast(request[http::field::sec_websocket_protocol]))) {
    return {http::status::bad_request,
            StrCat("subprotocol ", kSubprotocol, " is required (Sec-WebSocket-Protocol)\n")};
  }
  return {http::status::ok, ""};
}

template <class Stream>
void ReadUpgrade(std::shared_ptr<ConnectionImpl<Stream>> conn, std::string path,
                 ServerHandshakeDone done) {
  auto buffer = std::make_shared<beast::flat_buffer>();
  auto request = std::make_shared<Request>();
  http::async_read(
      conn->ws().next_layer(), *buffer, *request,
      [conn, buffer, request, path = std::move(path), done = std::move(done)](
          const beast::error_code& ec, size_t) mutable {
        if (ec) {
          done(absl::UnavailableError(StrCat("reading the upgrade request: ", ec.message())));
          return;
        }
        auto [status, text] = CheckUpgradeRequest(*request, path);
        if (status != http::status::ok) {
          auto response = std::make_shared<http::response<http::string_body>>(
              status, request->version());
          response->set(http::field::server, "posd-termsim");
          response->set(http::field::content_type, "text/plain");
          response->keep_alive(false);
          response->body() = text;
          response->prepare_payload();
          http::async_write(conn->ws().next_layer(), *response,
                            [conn, response, text, done = std::move(done)](
                                const beast::error_code&, size_t) {
                              done(absl::InvalidArgumentError(
                                  StrCat("upgrade refused: ", text.substr(0, text.size() - 1))));
                            });
          return;
        }
        beast::get_lowest_layer(conn->ws()).expires_never();
        conn->ws().set_option(wsb::stream_base::decorator([](wsb::response_type& response) {
          response.set(http::field::sec_websocket_protocol, ToBeast(kSubprotocol));
          response.set(http::field::server, "posd-termsim");
        }));
        conn->ws().async_accept(*request, [conn, request, done = std::move(done)](
                                              const beast::error_code& accept_ec) {
          done(accept_ec ? absl::UnavailableError(StrCat("upgrade: ", accept_ec.message()))
                         : absl::OkStatus());
        });
      });
}

template <class Stream>
void ServerHandshake(std::shared_ptr<ConnectionImpl<Stream>> conn, const std::string& path,
                     const WebSocketOptions& options, ServerHandshakeDone done) {
  beast::get_lowest_layer(conn->ws()).expires_after(options.handshake_timeout);
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    conn->ws().next_layer().async_handshake(
        ssl::stream_base::server,
        [conn, path, done = std::move(done)](const beast::error_code& ec) mutable {
          if (ec) {
            done(absl::UnavailableError(StrCat("TLS handshake failed: ", ec.message())));
            return;
          }
          ReadUpgrade(conn, std::move(path), std::move(done));
        });
  } else {
    ReadUpgrade(conn, path, std::move(done));
  }
}

}  // namespace posd::websocket::internal
