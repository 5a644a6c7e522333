#include "service/websocket/websocket_client_transport.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <utility>

#include "service/common/strings.h"
#include "service/websocket/connection.h"

namespace posd::websocket {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

}  // namespace

std::string_view ConnectStageName(ConnectStage stage) {
  switch (stage) {
    case ConnectStage::kResolve: return "resolve";
    case ConnectStage::kConnect: return "connect";
    case ConnectStage::kTls: return "tls";
    case ConnectStage::kUpgrade: return "upgrade";
    case ConnectStage::kConnected: return "connected";
  }
  return "unknown";
}

struct WebSocketClientTransport::Impl {
  explicit Impl(net::io_context& io) : io(io), resolver(io), reconnect(io) {}
  net::io_context& io;
  tcp::resolver resolver;
  net::steady_timer reconnect;
  std::shared_ptr<ssl::context> tls;                  // null without TLS
  std::shared_ptr<internal::Connection> connection;  // attempt in progress or up
};

absl::StatusOr<std::unique_ptr<WebSocketClientTransport>> WebSocketClientTransport::Create(
    net::io_context& io, WebSocketClientOptions options, ConnectObserver observer) {
  if (absl::Status s = ValidateWebSocketOptions(options.websocket); !s.ok()) return s;
  if (!options.endpoint.host.empty()) {
    if (absl::Status s = ValidateEndpoint(options.endpoint); !s.ok()) return s;
  }
  if (options.reconnect_initial <= Duration::zero() ||
      options.reconnect_max < options.reconnect_initial) {
    return absl::InvalidArgumentError("reconnect: need 0 < initial <= max");
  }
  auto impl = std::make_unique<Impl>(io);
  if (options.tls.enabled) {
    impl->tls = std::make_shared<ssl::context>(ssl::context::tls_client);
    impl->tls->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (options.tls.ca_file.empty()) {
      impl->tls->set_default_verify_paths(ec);
    } else {
      impl->tls->load_verify_file(options.tls.ca_file, ec);
    }
    if (ec) {
      return absl::InvalidArgumentError(StrCat("tls.ca_file: cannot load '", options.tls.ca_file,
                                               "': ", ec.message()));
    }
  }
  return std::unique_ptr<WebSocketClientTransport>(
      new WebSocketClientTransport(std::move(impl), std::move(options), std::move(observer)));
}

WebSocketClientTransport::WebSocketClientTransport(std::unique_ptr<Impl> impl,
                                                   WebSocketClientOptions options,
                                                   ConnectObserver observer)
    : impl_(std::move(impl)),
      options_(std::move(options)),
      observer_(std::move(observer)),
      reconnect_delay_(options_.reconnect_initial) {
  UpdateDescription();
}

WebSocketClientTransport::~WebSocketClientTransport() {
  Close();
  *alive_ = false;
}

void WebSocketClientTransport::UpdateDescription() {
  description_ = options_.description.empty()
                     ? StrCat("websocket ", EndpointUrl(options_.endpoint, options_.tls.enabled))
                     : options_.description;
}

void WebSocketClientTransport::Start(channel::MessageTransportHandler* handler) {
  if (handler_ != nullptr || closed_ || handler == nullptr) return;
  handler_ = handler;
  Connect();
}

void WebSocketClientTransport::Connect() {
  AbandonAttempt();
  if (options_.endpoint.host.empty()) return;  // waiting for SetEndpoint
  const uint64_t id = ++attempt_;
  ++attempts_;
  spdlog::debug("{}: connecting (attempt {})", description_, attempts_);
  impl_->resolver.async_resolve(
      options_.endpoint.host, std::to_string(options_.endpoint.port),
      [this, id, alive = alive_](const boost::system::error_code& ec,
                                 const tcp::resolver::results_type& results) {
        if (!*alive || closed_ || id != attempt_) return;
        if (ec) {
          OnAttemptDone(id, ConnectStage::kResolve,
                        absl::UnavailableError(StrCat("cannot resolve ", options_.endpoint.host,
                                                      ": ", ec.message())));
          return;
        }
        internal::ClientHandshakeDone done = [this, id, alive](ConnectStage stage,
                                                               const absl::Status& status) {
          if (*alive) OnAttemptDone(id, stage, status);
        };
        impl_->connection =
            impl_->tls ? internal::ConnectTls(impl_->io, *impl_->tls, results, options_.endpoint,
                                              options_.tls, options_.websocket, std::move(done))
                       : internal::ConnectPlain(impl_->io, results, options_.endpoint,
                                                options_.websocket, std::move(done));
      });
}

void WebSocketClientTransport::OnAttemptDone(uint64_t attempt, ConnectStage stage,
                                             const absl::Status& status) {
  if (closed_ || attempt != attempt_) return;
  const ConnectReport report{.stage = stage, .status = status, .endpoint = options_.endpoint};
  if (!status.ok()) {
    spdlog::debug("{}: {} failed: {}", description_, ConnectStageName(stage), status.ToString());
    if (impl_->connection) impl_->connection->Abort();
    impl_->connection.reset();
    if (observer_) observer_(report);
    if (!closed_ && attempt == attempt_) ScheduleReconnect();
    return;
  }
  reconnect_delay_ = options_.reconnect_initial;
  if (observer_) observer_(report);
  if (closed_ || attempt != attempt_ || !impl_->connection) return;
  internal::ConnectionCallbacks callbacks;
  callbacks.on_message = [this, attempt](std::span<const uint8_t> message) {
    if (attempt == attempt_ && up_ && handler_ != nullptr) handler_->OnMessage(message);
  };
  callbacks.on_closed = [this, attempt](const absl::Status& why) {
    OnConnectionClosed(attempt, why);
  };
  impl_->connection->Run(std::move(callbacks));
  up_ = true;
  spdlog::info("{}: connected", description_);
  handler_->OnTransportUp();
}

void WebSocketClientTransport::OnConnectionClosed(uint64_t attempt, const absl::Status& why) {
  if (closed_ || attempt != attempt_) return;
  impl_->connection.reset();
  const bool was_up = up_;
  up_ = false;
  spdlog::info("{}: connection ended: {}", description_, ToStd(why.message()));
  ScheduleReconnect();
  if (was_up) handler_->OnTransportDown(channel::TransportDownReason::kStreamFailed,
                                        ToStd(why.message()));
}

void WebSocketClientTransport::ScheduleReconnect() {
  const uint64_t id = ++attempt_;  // nothing of the old attempt counts any more
  impl_->reconnect.expires_after(reconnect_delay_);
  reconnect_delay_ = std::min(reconnect_delay_ * 2, options_.reconnect_max);
  impl_->reconnect.async_wait([this, id, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || closed_ || id != attempt_) return;
    Connect();
  });
}

void WebSocketClientTransport::AbandonAttempt() {
  ++attempt_;
  impl_->reconnect.cancel();
  impl_->resolver.cancel();
  if (impl_->connection) impl_->connection->Abort();
  impl_->connection.reset();
}

void WebSocketClientTransport::PostDown(channel::TransportDownReason reason, std::string detail) {
  net::post(impl_->io, [this, reason, detail = std::move(detail), alive = alive_] {
    if (!*alive || closed_ || handler_ == nullptr) return;
    handler_->OnTransportDown(reason, detail);
  });
}

absl::Status WebSocketClientTransport::Send(std::span<const uint8_t> message) {
  if (closed_ || !up_ || !impl_->connection) {
    return absl::FailedPreconditionError(StrCat(description_, ": not connected"));
  }
  return impl_->connection->Send(message);
}

void WebSocketClientTransport::Reset(std::string_view why) {
  if (closed_ || handler_ == nullptr) return;
  spdlog::info("{}: reset: {}", description_, why);
  const bool was_up = up_;
  up_ = false;
  AbandonAttempt();
  reconnect_delay_ = options_.reconnect_initial;
  ScheduleReconnect();
  if (was_up) PostDown(channel::TransportDownReason::kLocalReset, std::string(why));
}

void WebSocketClientTransport::Close() {
  if (closed_) return;
  AbandonAttempt();
  closed_ = true;
  up_ = false;
}

bool WebSocketClientTransport::is_up() const { return up_ && !closed_; }

absl::Status WebSocketClientTransport::SetEndpoint(Endpoint endpoint, Retry retry) {
  if (absl::Status s = ValidateEndpoint(endpoint); !s.ok()) return s;
  if (endpoint == options_.endpoint) return absl::OkStatus();
  const bool was_waiting = options_.endpoint.host.empty();
  options_.endpoint = std::move(endpoint);
  UpdateDescription();
  spdlog::info("{}: address changed", description_);
  // Nothing pending when it had no address: only an attempt now starts one.
  if (handler_ != nullptr && !closed_ && !up_ && (retry == Retry::kNow || was_waiting)) {
    reconnect_delay_ = options_.reconnect_initial;
    Connect();
  }
  return absl::OkStatus();
}

}  // namespace posd::websocket
