// Turns the bytes of a request into its message, saying what is wrong when
// they are not one.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"

namespace posd::api {

// Parses `bytes` into `request` (cleared first). INVALID_ARGUMENT with reason
// INVALID_FIELD when they are not a `request`: for a string field holding
// invalid UTF-8 (a UI that cut a character in half) the message says so and
// metadata["field"] names the field ("order.lines.name"; repeated fields
// without their index); otherwise the field is "request". Thread-safe.
absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message& request);

// The same for bytes already in one piece.
absl::Status ParseRequest(std::string_view bytes, google::protobuf::Message& request);

}  // namespace posd::api
