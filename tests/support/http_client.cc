#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/ascii.h"

namespace posd::testing {
namespace {

// ASCII lower case: header names and media types are case-insensitive.
std::string Lower(std::string_view text) {
  return absl::AsciiStrToLower(absl::string_view(text.data(), text.size()));
}

}  // namespace

std::string HttpReply::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

HttpConnection::HttpConnection(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool HttpConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool HttpConnection::Fill(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> HttpConnection::ReadLine(std::chrono::steady_clock::time_point deadline) {
  while (true) {
    const auto end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

std::optional<std::string> HttpConnection::ReadExactly(std::size_t n,
                                                       std::chrono::steady_clock::time_point deadline) {
  while (buffer_.size() < n) {
    if (!Fill(deadline)) return std::nullopt;
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

std::optional<HttpReply> HttpConnection::ReadHead(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto status_line = ReadLine(deadline);
  if (!status_line || status_line->size() < 12) return std::nullopt;
  HttpReply reply;
  reply.status = std::atoi(status_line->substr(9, 3).c_str());
  while (true) {
    auto line = ReadLine(deadline);
    if (!line) return std::nullopt;
    if (line->empty()) break;
    const auto colon = line->find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string value = line->substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    reply.headers.emplace_back(Lower(line->substr(0, colon)), value);
  }
  return reply;
}

std::optional<std::string> HttpConnection::ReadChunk(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto size_line = ReadLine(deadline);
  if (!size_line) return std::nullopt;
  const std::size_t size = std::strtoul(size_line->c_str(), nullptr, 16);
  auto data = ReadExactly(size + 2, deadline);
  if (!data) return std::nullopt;
  data->resize(size);
  return data;
}

std::optional<HttpReply> HttpConnection::ReadReply(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto reply = ReadHead(timeout);
  if (!reply) return std::nullopt;
  if (reply->Header("transfer-encoding") == "chunked") {
    while (true) {
      auto chunk = ReadChunk(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!chunk) return std::nullopt;
      if (chunk->empty()) break;
      reply->body.append(*chunk);
    }
    return reply;
  }
  const std::string length = reply->Header("content-length");
  auto body = ReadExactly(length.empty() ? 0 : std::strtoul(length.c_str(), nullptr, 10), deadline);
  if (!body) return std::nullopt;
  reply->body = *std::move(body);
  return reply;
}

std::string GrpcWebPost(std::string_view path, std::string_view body, std::string_view content_type,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view host) {
  std::string request = "POST ";
  request.append(path).append(" HTTP/1.1\r\nhost: ").append(host);
  request.append("\r\ncontent-type: ").append(content_type);
  request.append("\r\nx-grpc-web: 1\r\ncontent-length: ").append(std::to_string(body.size()));
  request.append("\r\n");
  for (const auto& [name, value] : headers) request.append(name).append(": ").append(value).append("\r\n");
  request.append("\r\n").append(body);
  return request;
}

uint16_t PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace posd::testing
