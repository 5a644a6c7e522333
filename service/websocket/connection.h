// Internal to posd_websocket: one established WebSocket connection, shared by
// the client and server transports, and the four ways to start one (client
// or server end, plain or TLS).
//
// Boost.Beast is compiled only in plain_connection.cc and tls_connection.cc,
// one stream type each: Beast's templates are expensive to build (under
// AddressSanitizer several minutes and gigabytes per stream type), so each is
// instantiated exactly once and the transports see only this interface.
//
// A connection owns its stream, a read loop, a write queue with one write in
// flight, the ping timer and the dead-peer timer (websocket_options.h). The
// owner sees whole messages and one on_closed, never bytes.
//
// Threading: confined to the io_context's thread. Lifetime: shared; every
// pending Asio operation holds a reference, so Abort() may be called from a
// callback and the owner may drop its pointer at any time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "service/websocket/websocket_client_transport.h"
#include "service/websocket/websocket_options.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace posd::websocket::internal {

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

// Runs once when the handshake ends: kConnected with OK, or the stage that
// failed and why. Never after Abort().
using ClientHandshakeDone = std::function<void(ConnectStage stage, const absl::Status& status)>;
// Runs once when the upgrade ends: OK, or why the connection was refused.
using ServerHandshakeDone = std::function<void(const absl::Status& status)>;

// posd's end: TCP connect to one of `targets`, TLS for the Tls variant
// (verifying `tls.server_name` or else `endpoint.host`), then the HTTP
// upgrade with the posd.link.v1 subprotocol, all within the options'
// handshake timeout. Call Run on the connection once `done` reports
// kConnected.
std::shared_ptr<Connection> ConnectPlain(boost::asio::io_context& io,
                                         const boost::asio::ip::tcp::resolver::results_type& targets,
                                         const Endpoint& endpoint, const WebSocketOptions& options,
                                         ClientHandshakeDone done);
std::shared_ptr<Connection> ConnectTls(boost::asio::io_context& io,
                                       boost::asio::ssl::context& context,
                                       const boost::asio::ip::tcp::resolver::results_type& targets,
                                       const Endpoint& endpoint, const ClientTls& tls,
                                       const WebSocketOptions& options, ClientHandshakeDone done);

// The terminal's end of an accepted socket: TLS for the Tls variant, then
// the upgrade request, which must name `path` and offer the subprotocol
// (else an HTTP error answer and a refusal).
std::shared_ptr<Connection> AcceptPlain(boost::asio::ip::tcp::socket socket,
                                        const std::string& path, const WebSocketOptions& options,
                                        ServerHandshakeDone done);
std::shared_ptr<Connection> AcceptTls(boost::asio::ip::tcp::socket socket,
                                      boost::asio::ssl::context& context, const std::string& path,
                                      const WebSocketOptions& options, ServerHandshakeDone done);

}  // namespace posd::websocket::internal
