// The simulator's control interface: a Unix stream socket accepting
// one-line text commands ("status", "fault crash-after-charge once",
// "power-cut", "garbage 100", "quit", "help"), each answered with one line
// starting "OK" or "ERR". Any number of clients; each may send many lines.
//
// Threading: runs on the given io_context; the handler runs on it.
// Lifetime: the io_context must outlive the server; destroying the server
// closes the socket and removes its file.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::termsim {

using CommandHandler = std::function<std::string(std::string_view line)>;

class ControlServer {
 public:
  // Binds `path` (a stale socket file is replaced). UNAVAILABLE on failure.
  static absl::StatusOr<std::unique_ptr<ControlServer>> Create(boost::asio::io_context& io,
                                                               std::string path,
                                                               CommandHandler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return path_; }

 private:
  struct Impl;
  explicit ControlServer(std::unique_ptr<Impl> impl, std::string path);
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace posd::termsim
