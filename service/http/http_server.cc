// Boost.Beast is compiled only in this file: one session template, built for
// plain TCP and for TLS. Requests are parsed by Beast; responses are written
// as bytes (the router already decided every header), which keeps the
// templates Beast instantiates here to the parser and the streams.
#include "service/http/http_server.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "service/common/strings.h"
#include "spdlog/spdlog.h"

namespace posd::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr std::size_t kHeaderLimit = 16 * 1024;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection and cancels its call, on the session's strand.
  virtual void PostClose() = 0;
};

// What every session shares with the server: the open sessions (for Stop and
// the connection limit) and the count of bridged calls not yet finished
// (Stop waits for it before the io_context goes, since gRPC threads post
// into it until then).
class ServerState {
 public:
  // False when the server is stopping or full.
  bool AddSession(const std::shared_ptr<SessionBase>& session, std::size_t limit) {
    const std::lock_guard lock(mutex_);
    std::erase_if(sessions_, [](const auto& weak) { return weak.expired(); });
    if (stopping_ || sessions_.size() >= limit) return false;
    sessions_.push_back(session);
    return true;
  }
  bool CallStarted() {
    const std::lock_guard lock(mutex_);
    if (stopping_) return false;
    ++calls_;
    return true;
  }
  void CallEnded() {
    const std::lock_guard lock(mutex_);
    if (--calls_ == 0) calls_done_.notify_all();
  }
  void StopAndWait() {
    std::vector<std::weak_ptr<SessionBase>> sessions;
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
      sessions.swap(sessions_);
    }
    for (const auto& weak : sessions) {
      if (auto session = weak.lock()) session->PostClose();
    }
    std::unique_lock lock(mutex_);
    calls_done_.wait(lock, [this] { return calls_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable calls_done_;
  std::vector<std::weak_ptr<SessionBase>> sessions_;  // GUARDED_BY(mutex_)
  int calls_ = 0;                                     // GUARDED_BY(mutex_)
  bool stopping_ = false;                             // GUARDED_BY(mutex_)
};

std::string SerializeHead(int status, const HeaderList& headers, bool keep_alive,
                           std::optional<std::size_t> content_length) {
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  std::string head = StrCat("HTTP/1.1 ", status, " ", std::string_view(reason.data(), reason.size()),
                            "\r\n");
  for (const auto& [name, value] : headers) head.append(name).append(": ").append(value).append("\r\n");
  if (content_length) {
    head.append(StrCat("content-length: ", *content_length, "\r\n"));
  } else {
    head.append("transfer-encoding: chunked\r\n");
  }
  if (!keep_alive) head.append("connection: close\r\n");
  head.append("\r\n");
  return head;
}

std::string Chunk(std::string_view data) {
  return StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n");
}

template <class Stream>
class Session;

// Carries a bridged call's results onto the session's strand.
template <class Stream>
class CallObserver final : public BridgedCallObserver {
 public:
  CallObserver(std::shared_ptr<Session<Stream>> session, std::shared_ptr<ServerState> state)
      : session_(std::move(session)), state_(std::move(state)) {}

  void OnMessage(std::string message, HeaderList initial) override {
    net::post(session_->executor(), [session = session_, message = std::move(message),
                                     initial = std::move(initial)]() mutable {
      session->OnCallMessage(std::move(message), std::move(initial));
    });
  }
  void OnFinish(const grpc::Status& status, HeaderList initial, HeaderList trailing) override {
    net::post(session_->executor(), [session = session_, status, initial = std::move(initial),
                                     trailing = std::move(trailing)]() mutable {
      session->OnCallFinish(status, std::move(initial), std::move(trailing));
    });
    session_.reset();
    state_->CallEnded();  // last: after it the io_context may go away
  }

 private:
  std::shared_ptr<Session<Stream>> session_;
  std::shared_ptr<ServerState> state_;
};

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, bool tls, const HttpRouter& router, GrpcBridge& bridge,
          std::shared_ptr<ServerState> state)
      : stream_(std::move(stream)), tls_(tls), router_(router), bridge_(bridge),
        state_(std::move(state)) {}

  auto executor() { return stream_.get_executor(); }

  void Run() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      ReadRequest();
    } else {
      beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->ReadRequest();
                              });
    }
  }

  void PostClose() override {
    net::post(executor(), [self = this->shared_from_this()] { self->Close(); });
  }

  void OnCallMessage(std::string message, HeaderList initial) {
    if (closed_) return;
    if (!initial.empty()) initial_metadata_ = MetadataToHttp(initial);
    const GrpcWebResponseEncoder encoder(mode_);
    if (streaming_) {
      QueueWrite(Chunk(encoder.Message(message)), Then::kReadNext);
      return;
    }
    unary_body_.append(encoder.Message(message));
    ++unary_messages_;
    call_->ReadNext();
  }

  void OnCallFinish(const grpc::Status& status, HeaderList initial, HeaderList trailing) {
    if (closed_) return;
    if (!initial.empty()) initial_metadata_ = MetadataToHttp(initial);
    const GrpcWebResponseEncoder encoder(mode_);
    const std::string trailers = encoder.Trailers(status, trailing);
    if (streaming_) {
      QueueWrite(StrCat(Chunk(trailers), "0\r\n\r\n"), Then::kResponseDone);
      return;
    }
    HeaderList headers = call_headers_;
    headers.emplace_back("content-type", std::string(ResponseContentType(mode_)));
    for (auto& header : initial_metadata_) headers.push_back(std::move(header));
    if (unary_messages_ == 0) {  // trailers-only: the status in the headers too
      headers.emplace_back("grpc-status", StrCat(static_cast<int>(status.error_code())));
      headers.emplace_back("grpc-message", PercentEncodeGrpcMessage(status.error_message()));
    }
    unary_body_.append(trailers);
    std::string bytes = SerializeHead(200, headers, keep_alive_, unary_body_.size());
    bytes.append(unary_body_);
    QueueWrite(std::move(bytes), Then::kResponseDone);
  }

 private:
  enum class Then { kNothing, kReadNext, kResponseDone };

  void ReadRequest() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(router_.max_request_bytes());
    parser_->header_limit(kHeaderLimit);
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->OnRequest(ec);
                      });
  }

  void OnRequest(beast::error_code ec) {
    if (closed_) return;
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return WriteResponse(HttpRouter::PlainError(
          413, StrCat("request body over ", router_.max_request_bytes(),
                      " bytes (http.max_request_bytes)")));
    }
    if (ec == bhttp::error::header_limit) {
      keep_alive_ = false;
      return WriteResponse(HttpRouter::PlainError(431, "request headers too large"));
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return Close();
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      keep_alive_ = false;
      return WriteResponse(HttpRouter::PlainError(400, StrCat("malformed request: ", ec.message())));
    }
    if (ec) return Close();
    beast::get_lowest_layer(stream_).expires_never();
    auto message = parser_->release();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.tls = tls_;
    keep_alive_ = message.keep_alive();
    auto routed = router_.Route(request);
    if (auto* response = std::get_if<HttpResponse>(&routed)) return WriteResponse(*response);
    StartCall(std::get<GrpcWebCall>(std::move(routed)));
  }

  void WriteResponse(const HttpResponse& response) {
    std::string bytes = SerializeHead(response.status, response.headers, keep_alive_,
                                      response.body.size());
    if (!response.omit_body) bytes.append(response.body);
    QueueWrite(std::move(bytes), Then::kResponseDone);
  }

  void StartCall(GrpcWebCall call) {
    if (!state_->CallStarted()) {
      keep_alive_ = false;
      return WriteResponse(HttpRouter::PlainError(503, "posd is shutting down"));
    }
    mode_ = call.mode;
    streaming_ = call.server_streaming;
    call_headers_ = std::move(call.response_headers);
    initial_metadata_.clear();
    unary_body_.clear();
    unary_messages_ = 0;
    if (streaming_) {
      HeaderList headers = call_headers_;
      headers.emplace_back("content-type", std::string(ResponseContentType(mode_)));
      QueueWrite(SerializeHead(200, headers, keep_alive_, std::nullopt), Then::kNothing);
    }
    call_ = bridge_.Start(std::move(call.request),
                          std::make_shared<CallObserver<Stream>>(this->shared_from_this(), state_));
    Watch();
  }

  // While a call runs, a read notices the browser going away (the stream's
  // fetch aborted, the tab closed) and cancels the call at once.
  void Watch() {
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->OnWatch(ec, n);
                            });
  }

  void OnWatch(beast::error_code ec, std::size_t bytes) {
    watching_ = false;
    if (ec) return Close();
    buffer_.commit(bytes);  // a pipelined request: parsed after this response
    if (next_request_waits_for_watch_) {
      next_request_waits_for_watch_ = false;
      ReadRequest();
    }
  }

  void QueueWrite(std::string bytes, Then then) {
    writes_.push_back({std::move(bytes), then});
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (closed_ || writes_.empty()) return;
    writing_ = true;
    net::async_write(stream_, net::buffer(writes_.front().bytes),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->OnWritten(ec);
                     });
  }

  void OnWritten(beast::error_code ec) {
    writing_ = false;
    if (ec) return Close();
    const Then then = writes_.front().then;
    writes_.pop_front();
    if (then == Then::kReadNext && call_) call_->ReadNext();
    if (then == Then::kResponseDone) {
      call_.reset();
      if (!keep_alive_) return CloseAfterResponse();
      if (watching_) {
        next_request_waits_for_watch_ = true;
        beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
      } else {
        ReadRequest();
      }
    }
    WriteNext();
  }

  void CloseAfterResponse() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    Close();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    if (call_) call_->Cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  Stream stream_;
  const bool tls_;
  const HttpRouter& router_;
  GrpcBridge& bridge_;
  std::shared_ptr<ServerState> state_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = true;
  bool closed_ = false;

  struct PendingWrite {
    std::string bytes;
    Then then;
  };
  std::deque<PendingWrite> writes_;
  bool writing_ = false;

  std::shared_ptr<BridgedCall> call_;
  GrpcWebMode mode_ = GrpcWebMode::kBinary;
  bool streaming_ = false;
  HeaderList call_headers_;
  HeaderList initial_metadata_;
  std::string unary_body_;
  int unary_messages_ = 0;
  bool watching_ = false;
  bool next_request_waits_for_watch_ = false;
};

absl::StatusOr<tcp::endpoint> ParseListen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError(StrCat("'", listen, "' is not IP:PORT"));
  std::string ip = listen.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  int port = 0;
  for (char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return absl::InvalidArgumentError(StrCat("bad port in '", listen, "'"));
    port = port * 10 + (c - '0');
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(ip, ec);
  if (ec || port > 65535) return absl::InvalidArgumentError(StrCat("'", listen, "' is not IP:PORT"));
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, const HttpRouter& router, GrpcBridge& bridge)
      : options_(options), router_(router), bridge_(bridge), acceptor_(net::make_strand(io_)),
        ssl_(net::ssl::context::tls_server), work_(net::make_work_guard(io_)),
        state_(std::make_shared<ServerState>()) {}

  ~ServerImpl() override { Stop(); }

  absl::Status Open() {
    auto endpoint = ParseListen(options_.listen);
    if (!endpoint.ok()) return endpoint.status();
    tls_ = !options_.tls_certificate_chain_pem.empty();
    beast::error_code ec;
    if (tls_) {
      ssl_.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1);
      ssl_.use_certificate_chain(net::buffer(options_.tls_certificate_chain_pem), ec);
      if (!ec) ssl_.use_private_key(net::buffer(options_.tls_private_key_pem), net::ssl::context::pem, ec);
      if (ec) return absl::InvalidArgumentError(StrCat("TLS certificate or key refused: ", ec.message()));
    }
    acceptor_.open(endpoint->protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(*endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return absl::UnavailableError(StrCat("cannot listen on ", options_.listen, ": ", ec.message()));
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, options_.threads); ++i) threads_.emplace_back([this] { io_.run(); });
    return absl::OkStatus();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    state_->StopAndWait();
    work_.reset();
    io_.stop();
    for (auto& thread : threads_) thread.join();
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) Serve(std::move(socket));
      Accept();
    });
  }

  void Serve(tcp::socket socket) {
    std::shared_ptr<SessionBase> session;
    if (tls_) {
      auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), ssl_), true,
          router_, bridge_, state_);
      session = s;
      if (state_->AddSession(session, options_.max_connections)) s->Run();
    } else {
      auto s = std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                           false, router_, bridge_, state_);
      session = s;
      if (state_->AddSession(session, options_.max_connections)) s->Run();
    }
  }

  const HttpServerOptions options_;
  const HttpRouter& router_;
  GrpcBridge& bridge_;
  net::io_context io_;
  tcp::acceptor acceptor_;
  net::ssl::context ssl_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::shared_ptr<ServerState> state_;
  std::vector<std::thread> threads_;
  bool tls_ = false;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              const HttpRouter& router,
                                                              GrpcBridge& bridge) {
  auto server = std::make_unique<ServerImpl>(options, router, bridge);
  if (absl::Status opened = server->Open(); !opened.ok()) return opened;
  return server;
}

}  // namespace posd::http
