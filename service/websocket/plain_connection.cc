// The unencrypted (ws://) connection: Beast's stream over plain TCP is
// instantiated here and nowhere else (connection.h).
#include "service/websocket/connection_impl.h"

namespace posd::websocket::internal {

std::shared_ptr<Connection> ConnectPlain(net::io_context& io,
                                         const tcp::resolver::results_type& targets,
                                         const Endpoint& endpoint, const WebSocketOptions& options,
                                         ClientHandshakeDone done) {
  auto connection = std::make_shared<ConnectionImpl<PlainStream>>(options, io);
  ClientHandshake(connection, targets, endpoint, ClientTls{}, options, std::move(done));
  return connection;
}

std::shared_ptr<Connection> AcceptPlain(tcp::socket socket, const std::string& path,
                                        const WebSocketOptions& options,
                                        ServerHandshakeDone done) {
  auto connection = std::make_shared<ConnectionImpl<PlainStream>>(options, std::move(socket));
  ServerHandshake(connection, path, options, std::move(done));
  return connection;
}

}  // namespace posd::websocket::internal
