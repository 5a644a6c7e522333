// What every posctl command shares: where posd is, how long to wait, how to
// print, and how failures become exit codes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace posd::posctl {

// Exit codes that scripts can rely on (docs/operations.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitNegative = 1,  // the question was answered "no" (e.g. health: not serving)
  kExitUsage = 2,
  kExitRpcBase = 64,  // 64 + the gRPC status code of a failed call
};

enum class OutputFormat { kTable, kJson };

// The default address when neither --address nor POSD_ADDRESS is given.
inline constexpr char kDefaultAddress[] = "unix:/run/posd/posd.sock";

struct GlobalOptions {
  std::string address = kDefaultAddress;
  std::string timeout = "5s";
  OutputFormat output = OutputFormat::kTable;
  // Bearer token file for TCP addresses; TLS is used whenever a token is.
  std::string token_file;
  std::string ca_file;
};

// Created once the command line is parsed. Not thread-safe.
class CliContext {
 public:
  explicit CliContext(const GlobalOptions& options) : options_(options) {}

  // The channel to posd, created on first use.
  std::shared_ptr<grpc::Channel> Channel();
  // A client context with the deadline from --timeout and the bearer token.
  std::unique_ptr<grpc::ClientContext> NewCall() const;
  std::chrono::milliseconds timeout() const;

  OutputFormat output() const { return options_.output; }
  const std::string& address() const { return options_.address; }

  // Prints `message` as JSON (the protobuf JSON mapping, snake_case names) or,
  // in table form, as aligned "field  value" lines.
  void Print(const google::protobuf::Message& message) const;

  // Reports a failed call on standard error and returns 64 + its code.
  int Fail(const grpc::Status& status, std::string_view what) const;

 private:
  GlobalOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
};

// What a chosen subcommand does, given the context; returns the exit code.
using Command = std::function<int(CliContext&)>;

}  // namespace posd::posctl
