// A misbehaving WebSocket server for tests, written against the RFC with
// plain blocking Asio sockets (no Beast): it completes the upgrade by hand
// and then does exactly what a test asks (send a truncated frame and close,
// or fall silent), which a well-behaved server cannot be made to do.
//
// Threading: serves one connection on a thread of its own; the destructor
// closes everything and joins it.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <thread>

namespace posd::websocket::testing {

class RawWebSocketPeer {
 public:
  enum class Behaviour {
    // Upgrade, then send the header of a 100-byte binary frame and 10 bytes
    // of it, then close the socket.
    kCloseMidMessage,
    // Upgrade, then never read or write again (pings go unanswered) while
    // the socket stays open.
    kFallSilent,
    // Answer the upgrade without the posd.link.v1 subprotocol.
    kWrongSubprotocol,
  };

  explicit RawWebSocketPeer(Behaviour behaviour);
  ~RawWebSocketPeer();

  uint16_t port() const { return port_; }
  // True once the upgrade response went out.
  bool upgraded() const { return upgraded_.load(); }

 private:
  void Serve();

  Behaviour behaviour_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::socket socket_;
  uint16_t port_ = 0;
  std::atomic<bool> upgraded_{false};
  std::thread thread_;
};

}  // namespace posd::websocket::testing
