#include "tests/integration/websocket/raw_websocket_peer.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <istream>
#include <string>
#include <vector>

namespace posd::websocket::testing {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// RFC 6455 section 4.2.2: base64(SHA-1(key + GUID)).
std::string AcceptKey(const std::string& key) {
  const std::string text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char encoded[64] = {};
  const int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(n));
}

}  // namespace

RawWebSocketPeer::RawWebSocketPeer(Behaviour behaviour)
    : behaviour_(behaviour),
      acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
      socket_(io_) {
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
}

RawWebSocketPeer::~RawWebSocketPeer() {
  // Serve may still wait in accept (the test failed before connecting): a
  // throwaway connection that closes at once ends its wait and its read.
  {
    boost::system::error_code ignored;
    net::io_context io;
    tcp::socket poke(io);
    poke.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ignored);
  }
  thread_.join();
  boost::system::error_code ignored;
  socket_.close(ignored);
  acceptor_.close(ignored);
}

void RawWebSocketPeer::Serve() {
  boost::system::error_code ec;
  acceptor_.accept(socket_, ec);
  if (ec) return;
  net::streambuf request;
  net::read_until(socket_, request, "\r\n\r\n", ec);
  if (ec) return;
  std::istream in(&request);
  std::string key;
  for (std::string line; std::getline(in, line) && line != "\r";) {
    const std::string name = "Sec-WebSocket-Key: ";
    if (line.rfind(name, 0) == 0) key = line.substr(name.size(), line.size() - name.size() - 1);
  }
  const std::string protocol =
      behaviour_ == Behaviour::kWrongSubprotocol ? "chat.v9" : "posd.link.v1";
  const std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                               AcceptKey(key) + "\r\nSec-WebSocket-Protocol: " + protocol +
                               "\r\n\r\n";
  net::write(socket_, net::buffer(response), ec);
  if (ec) return;
  upgraded_ = true;
  if (behaviour_ == Behaviour::kCloseMidMessage) {
    // FIN + binary opcode, unmasked (server to client), length 100; then 10
    // bytes of payload and the end of the connection.
    std::vector<uint8_t> frame = {0x82, 100};
    frame.resize(frame.size() + 10, 0x2a);
    net::write(socket_, net::buffer(frame), ec);
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }
  // kFallSilent and kWrongSubprotocol: keep the socket open until the
  // destructor closes it; nothing is read, so no ping is answered.
}

}  // namespace posd::websocket::testing
