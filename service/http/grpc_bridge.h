// The generic half of the gRPC-Web bridge: forwards one call, whatever its
// method, into posd's own gRPC server through its in-process channel, and
// hands the responses back one at a time. Knows nothing of HTTP.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/status.h"
#include "service/http/grpc_web_framing.h"

namespace posd::http {

// Receives what a bridged call produces. Called on gRPC's threads, never two
// at once for one call, in this order: OnMessage any number of times (each
// only after the previous one was consumed, see BridgedCall::ReadNext), then
// OnFinish exactly once. Must not block.
class BridgedCallObserver {
 public:
  virtual ~BridgedCallObserver() = default;
  // One response message; `initial_metadata` is the server's initial
  // metadata, given with the first message only (empty afterwards).
  virtual void OnMessage(std::string message, HeaderList initial_metadata) = 0;
  // The call is over: its status, and the server's initial metadata (when
  // no message came before) and trailing metadata, "-bin" values raw.
  virtual void OnFinish(const grpc::Status& status, HeaderList initial_metadata,
                        HeaderList trailing_metadata) = 0;
};

struct BridgedCallRequest {
  // "/posd.v1.AdminService/GetServerInfo".
  std::string method;
  // Request metadata to forward (already filtered; "-bin" values raw).
  HeaderList metadata;
  std::optional<std::chrono::system_clock::time_point> deadline;
  // The request messages, serialized.
  std::vector<std::string> messages;
};

// One call in flight. Thread-safe. Holding it keeps the call's state alive;
// the call itself ends by itself (server finished) or by Cancel.
class BridgedCall {
 public:
  virtual ~BridgedCall() = default;
  // The last message given to OnMessage is consumed; deliver the next one.
  virtual void ReadNext() = 0;
  // Cancels the call on the server at once (its handler sees the
  // cancellation); OnFinish still follows, with CANCELLED. Idempotent.
  virtual void Cancel() = 0;
};

// Starts calls on one channel. Thread-safe; the channel's server must outlive
// every call (shut the HTTP side down first).
class GrpcBridge {
 public:
  explicit GrpcBridge(std::shared_ptr<grpc::Channel> channel);

  std::shared_ptr<BridgedCall> Start(BridgedCallRequest request,
                                     std::shared_ptr<BridgedCallObserver> observer);

  // True when `method` ("/pkg.Service/Method") is a server-streaming method
  // of a service linked into this program (from the generated descriptors,
  // so new methods need nothing here).
  static bool IsServerStreaming(std::string_view method);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
};

}  // namespace posd::http
