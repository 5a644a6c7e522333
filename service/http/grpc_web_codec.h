// gRPC-Web calls as the HTTP side sees them: which content types are
// gRPC-Web, how a request body and its headers become a bridged call, and
// how responses and the final status become body bytes. No HTTP library.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"
#include "service/http/grpc_bridge.h"
#include "service/http/grpc_web_framing.h"

namespace posd::http {

enum class GrpcWebMode { kBinary, kText };

// application/grpc-web, application/grpc-web+proto -> kBinary;
// application/grpc-web-text, application/grpc-web-text+proto -> kText;
// parameters after ';' ignored. nullopt for anything else (+json included:
// posd speaks protobuf).
std::optional<GrpcWebMode> ParseGrpcWebContentType(std::string_view content_type);

// The Content-Type of a response in `mode`.
std::string_view ResponseContentType(GrpcWebMode mode);

// True for a path shaped like a gRPC method, "/package.Service/Method".
bool IsGrpcMethodPath(std::string_view path);

struct GrpcWebRequestLimits {
  std::size_t max_message_bytes = 4 << 20;
};

// Decodes a whole request body into the call to forward. Errors, each as the
// gRPC status to answer with (nothing is forwarded): INVALID_ARGUMENT for
// malformed base64, frames, a trailer frame in a request, a bad grpc-timeout
// or header; RESOURCE_EXHAUSTED for a message over the limit; UNIMPLEMENTED
// for a compressed frame.
absl::StatusOr<BridgedCallRequest> DecodeGrpcWebRequest(
    std::string_view method, GrpcWebMode mode, const HeaderList& headers, std::string_view body,
    const GrpcWebRequestLimits& limits, std::chrono::system_clock::time_point now);

// Turns responses into body bytes in one mode. In text mode every piece is
// base64 of its own, padded, so pieces can be sent as they come. Stateless.
class GrpcWebResponseEncoder {
 public:
  explicit GrpcWebResponseEncoder(GrpcWebMode mode) : mode_(mode) {}

  std::string Message(std::string_view message) const;
  // The trailer frame: grpc-status, grpc-message (percent-encoded),
  // grpc-status-details-bin (base64) when the status has details, then
  // the server's trailing metadata.
  std::string Trailers(const grpc::Status& status, const HeaderList& trailing_metadata) const;

 private:
  GrpcWebMode mode_;
};

// A status given to the browser without forwarding anything (bad request).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace posd::http
