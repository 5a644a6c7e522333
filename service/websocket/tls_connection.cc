// The TLS (wss://) connection: Beast's stream over an OpenSSL stream is
// instantiated here and nowhere else (connection.h).
#include "service/websocket/connection_impl.h"

namespace posd::websocket::internal {

std::shared_ptr<Connection> ConnectTls(net::io_context& io, ssl::context& context,
                                       const tcp::resolver::results_type& targets,
                                       const Endpoint& endpoint, const ClientTls& tls,
                                       const WebSocketOptions& options, ClientHandshakeDone done) {
  auto connection = std::make_shared<ConnectionImpl<TlsStream>>(options, io, context);
  ClientHandshake(connection, targets, endpoint, tls, options, std::move(done));
  return connection;
}

std::shared_ptr<Connection> AcceptTls(tcp::socket socket, ssl::context& context,
                                      const std::string& path, const WebSocketOptions& options,
                                      ServerHandshakeDone done) {
  auto connection =
      std::make_shared<ConnectionImpl<TlsStream>>(options, std::move(socket), context);
  ServerHandshake(connection, path, options, std::move(done));
  return connection;
}

}  // namespace posd::websocket::internal
