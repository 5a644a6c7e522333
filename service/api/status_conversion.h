// The one place where absl::Status becomes grpc::Status.
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "service/common/error_info.h"

namespace posd::api {

// Longest status message sent to a client, in bytes. gRPC carries the
// message in a header whose size the client limits (8 KiB by default, less
// in some stacks): an unbounded message can make a client hang.
inline constexpr size_t kMaxStatusMessageBytes = 1024;

// The reason a status carries when no ErrorDetails were attached where it
// arose: the one that follows from its code (INVALID_ARGUMENT ->
// INVALID_FIELD, PERMISSION_DENIED -> ROLE_REQUIRED, ...), else UNSPECIFIED.
ErrorReason DefaultReasonFor(absl::StatusCode code);

// absl's canonical codes are gRPC's codes one to one. Every non-OK status
// gets a posd.v1.ErrorStatus holding one posd.v1.ErrorInfo in its binary
// error details (grpc-status-details-bin): the ErrorDetails attached to
// `status` (service/common/error_info.h), or DefaultReasonFor its code. The
// message is cut to kMaxStatusMessageBytes at a UTF-8 boundary.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace posd::api
