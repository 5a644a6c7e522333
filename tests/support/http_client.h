// A deliberately small blocking HTTP/1.1 client over a raw TCP socket, for
// tests and benchmarks of posd's HTTP edge: it sends exactly the bytes a test
// writes (malformed ones included) and parses responses, chunked or not.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace posd::testing {

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;  // de-chunked

  // The first header of that (lower-case) name, or "".
  std::string Header(std::string_view name) const;
};

// One connection to 127.0.0.1:port. Not thread-safe. Closed by the destructor.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(std::string_view bytes);
  // Reads one whole response (up to `timeout`); nullopt on timeout, close or
  // a response that cannot be parsed.
  std::optional<HttpReply> ReadReply(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads the status line and headers only; the body follows with ReadSome.
  std::optional<HttpReply> ReadHead(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next de-chunked body bytes of a chunked response (at least one
  // chunk, whatever arrived); "" at the last chunk, nullopt on timeout/close.
  std::optional<std::string> ReadChunk(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void Close();

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);
  std::optional<std::string> ReadLine(std::chrono::steady_clock::time_point deadline);
  std::optional<std::string> ReadExactly(std::size_t n, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

// A POST of a gRPC-Web call: `body` already framed (and base64 in text mode).
std::string GrpcWebPost(std::string_view path, std::string_view body,
                        std::string_view content_type = "application/grpc-web+proto",
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        std::string_view host = "127.0.0.1");

// A free TCP port on 127.0.0.1 right now (bound and released).
uint16_t PickFreePort();

}  // namespace posd::testing
