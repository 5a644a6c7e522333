#include "service/websocket/websocket_server_transport.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <map>
#include <utility>

#include "service/common/strings.h"
#include "service/websocket/connection.h"

namespace posd::websocket {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

}  // namespace

struct WebSocketServerTransport::Impl {
  explicit Impl(net::io_context& io) : io(io), acceptor(io) {}
  net::io_context& io;
  tcp::acceptor acceptor;
  std::shared_ptr<ssl::context> tls;  // null without TLS
  std::map<uint64_t, std::shared_ptr<internal::Connection>> handshaking;
  std::shared_ptr<internal::Connection> current;
};

absl::StatusOr<std::unique_ptr<WebSocketServerTransport>> WebSocketServerTransport::Create(
    net::io_context& io, WebSocketServerOptions options) {
  if (absl::Status s = ValidateWebSocketOptions(options.websocket); !s.ok()) return s;
  if (options.path.empty() || options.path[0] != '/') {
    return absl::InvalidArgumentError(StrCat("path: must start with '/', not '", options.path, "'"));
  }
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(options.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        StrCat("address: '", options.address, "' is not an IP address"));
  }
  auto impl = std::make_unique<Impl>(io);
  if (options.tls.enabled) {
    impl->tls = std::make_shared<ssl::context>(ssl::context::tls_server);
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
    impl->tls->use_certificate_chain_file(options.tls.certificate_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(StrCat("tls.certificate_file: cannot load '",
                                               options.tls.certificate_file, "': ", ec.message()));
    }
    impl->tls->use_private_key_file(options.tls.private_key_file, ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(StrCat("tls.private_key_file: cannot load '",
                                               options.tls.private_key_file, "': ", ec.message()));
    }
  }
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", options.address, ":", options.port, ": ", ec.message()));
  }
  const uint16_t port = impl->acceptor.local_endpoint().port();
  return std::unique_ptr<WebSocketServerTransport>(
      new WebSocketServerTransport(std::move(impl), std::move(options), port));
}

WebSocketServerTransport::WebSocketServerTransport(std::unique_ptr<Impl> impl,
                                                   WebSocketServerOptions options, uint16_t port)
    : impl_(std::move(impl)), options_(std::move(options)), port_(port) {
  Endpoint self{.host = options_.address, .port = port_, .path = options_.path};
  description_ = options_.description.empty()
                     ? StrCat("websocket server ", EndpointUrl(self, options_.tls.enabled))
                     : options_.description;
}

WebSocketServerTransport::~WebSocketServerTransport() {
  Close();
  *alive_ = false;
}

void WebSocketServerTransport::Start(channel::MessageTransportHandler* handler) {
  if (handler_ != nullptr || closed_ || handler == nullptr) return;
  handler_ = handler;
  Accept();
}

void WebSocketServerTransport::Accept() {
  impl_->acceptor.async_accept([this, alive = alive_](const boost::system::error_code& ec,
                                                      tcp::socket socket) {
    if (!*alive || closed_) return;
    if (ec) {
      if (ec == net::error::operation_aborted) return;
      spdlog::warn("{}: accept failed: {}", description_, ec.message());
      Accept();
      return;
    }
    const uint64_t id = next_id_++;
    boost::system::error_code ignored;
    const auto peer = socket.remote_endpoint(ignored);
    spdlog::debug("{}: connection {} from {}:{}", description_, id, peer.address().to_string(),
                  peer.port());
    internal::ServerHandshakeDone done = [this, id, alive](const absl::Status& status) {
      if (*alive) OnHandshakeDone(id, status);
    };
    impl_->handshaking[id] =
        impl_->tls ? internal::AcceptTls(std::move(socket), *impl_->tls, options_.path,
                                         options_.websocket, std::move(done))
                   : internal::AcceptPlain(std::move(socket), options_.path, options_.websocket,
                                           std::move(done));
    Accept();
  });
}

void WebSocketServerTransport::OnHandshakeDone(uint64_t id, const absl::Status& status) {
  auto found = impl_->handshaking.find(id);
  if (found == impl_->handshaking.end()) return;
  std::shared_ptr<internal::Connection> conn = std::move(found->second);
  impl_->handshaking.erase(found);
  if (closed_) return;
  if (!status.ok()) {
    spdlog::warn("{}: connection {} refused: {}", description_, id, ToStd(status.message()));
    conn->Abort();
    return;
  }
  DeliverPendingDown();
  if (impl_->current) {
    impl_->current->Abort();
    impl_->current.reset();
    current_ = 0;
    spdlog::info("{}: connection replaced by connection {}", description_, id);
    handler_->OnTransportDown(channel::TransportDownReason::kStreamFailed,
                              "replaced by a new connection");
    if (closed_) return;
  }
  impl_->current = conn;
  current_ = id;
  internal::ConnectionCallbacks callbacks;
  callbacks.on_message = [this, id](std::span<const uint8_t> message) {
    if (id == current_ && handler_ != nullptr) handler_->OnMessage(message);
  };
  callbacks.on_closed = [this, id](const absl::Status& why) { OnConnectionClosed(id, why); };
  conn->Run(std::move(callbacks));
  spdlog::info("{}: controller connected (connection {})", description_, id);
  handler_->OnTransportUp();
}

void WebSocketServerTransport::OnConnectionClosed(uint64_t id, const absl::Status& why) {
  if (closed_ || id != current_) return;
  impl_->current.reset();
  current_ = 0;
  spdlog::info("{}: connection {} ended: {}", description_, id, ToStd(why.message()));
  handler_->OnTransportDown(channel::TransportDownReason::kStreamFailed, ToStd(why.message()));
}

void WebSocketServerTransport::DeliverPendingDown() {
  if (!down_pending_) return;
  down_pending_ = false;
  handler_->OnTransportDown(channel::TransportDownReason::kLocalReset, "reset");
}

absl::Status WebSocketServerTransport::Send(std::span<const uint8_t> message) {
  if (closed_ || !impl_->current) {
    return absl::FailedPreconditionError(StrCat(description_, ": no controller connected"));
  }
  return impl_->current->Send(message);
}

void WebSocketServerTransport::Reset(std::string_view why) {
  if (closed_ || !impl_->current) return;
  spdlog::info("{}: reset: {}", description_, why);
  impl_->current->Abort();
  impl_->current.reset();
  current_ = 0;
  down_pending_ = true;
  net::post(impl_->io, [this, alive = alive_] {
    if (!*alive || closed_) return;
    DeliverPendingDown();
  });
}

void WebSocketServerTransport::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& [id, conn] : impl_->handshaking) conn->Abort();
  impl_->handshaking.clear();
  if (impl_->current) impl_->current->Abort();
  impl_->current.reset();
  current_ = 0;
}

bool WebSocketServerTransport::is_up() const { return !closed_ && impl_->current != nullptr; }

}  // namespace posd::websocket
