// Checks a parsed request against its declared limits (request_limits.h).
#pragma once

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace posd::api {

// OK when `request` keeps every limit of its message's table, recursively
// into the nested messages that have a table. Otherwise INVALID_ARGUMENT
// with ErrorDetails reason INVALID_FIELD and metadata["field"] the path of
// the first offending field ("payment.amount.currency_code",
// "order.lines[2].name", "parameters[\"tip.preset\"]"); the message quotes at
// most a short prefix of the offending value. Enum fields must hold a value
// their enum defines. A message without a table passes (see
// CheckRequestLimits for why every request has one). Thread-safe.
absl::Status ValidateRequest(const google::protobuf::Message& request);

}  // namespace posd::api
