#include "service/termsim/control_server.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <istream>

#include "service/common/strings.h"

namespace posd::termsim {

namespace {

using boost::asio::local::stream_protocol;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(stream_protocol::socket socket, std::shared_ptr<CommandHandler> handler)
      : socket_(std::move(socket)), handler_(std::move(handler)) {}

  void Read() {
    boost::asio::async_read_until(
        socket_, buffer_, '\n',
        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
          if (ec) return;
          std::istream in(&self->buffer_);
          std::string line;
          std::getline(in, line);
          if (!line.empty() && line.back() == '\r') line.pop_back();
          self->reply_ = (*self->handler_)(line) + "\n";
          boost::asio::async_write(self->socket_, boost::asio::buffer(self->reply_),
                                   [self](const boost::system::error_code& wec, size_t) {
                                     if (!wec) self->Read();
                                   });
        });
  }

 private:
  stream_protocol::socket socket_;
  std::shared_ptr<CommandHandler> handler_;
  boost::asio::streambuf buffer_;
  std::string reply_;
};

}  // namespace

struct ControlServer::Impl {
  Impl(boost::asio::io_context& io, std::shared_ptr<CommandHandler> h)
      : acceptor(io), handler(std::move(h)) {}
  void Accept() {
    acceptor.async_accept([this, alive = alive](const boost::system::error_code& ec,
                                                stream_protocol::socket socket) {
      if (!*alive || ec) return;
      std::make_shared<Connection>(std::move(socket), handler)->Read();
      Accept();
    });
  }
  stream_protocol::acceptor acceptor;
  std::shared_ptr<CommandHandler> handler;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::Create(boost::asio::io_context& io,
                                                                     std::string path,
                                                                     CommandHandler handler) {
  auto impl = std::make_unique<Impl>(io, std::make_shared<CommandHandler>(std::move(handler)));
  ::unlink(path.c_str());
  boost::system::error_code ec;
  impl->acceptor.open(stream_protocol(), ec);
  if (!ec) impl->acceptor.bind(stream_protocol::endpoint(path), ec);
  if (!ec) impl->acceptor.listen(16, ec);
  if (ec) {
    return absl::UnavailableError(StrCat("control socket ", path, ": ", ec.message()));
  }
  impl->Accept();
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl), std::move(path)));
}

ControlServer::ControlServer(std::unique_ptr<Impl> impl, std::string path)
    : impl_(std::move(impl)), path_(std::move(path)) {}

ControlServer::~ControlServer() {
  *impl_->alive = false;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  ::unlink(path_.c_str());
}

}  // namespace posd::termsim
