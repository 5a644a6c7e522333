// A plain gRPC client for the API edge tests: sends any bytes to any method
// of a running posd and decodes the posd.v1.ErrorInfo of the answer.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "posd/v1/errors.pb.h"

namespace posd::testing {

struct RawAnswer {
  grpc::Status status;
  std::vector<std::string> responses;  // serialized response messages
  // From grpc-status-details-bin; has_error_info is false when it is absent
  // or does not decode.
  bool has_error_info = false;
  posd::v1::ErrorStatus error_status;
  posd::v1::ErrorInfo error_info;
};

// Calls `method` ("/posd.v1.OrderService/GetOrder") with `request_bytes` as
// its one request message (unary and server-streaming methods alike) and
// waits for the end of the call. `metadata` is added to the call.
RawAnswer CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                  const std::string& request_bytes,
                  const std::vector<std::pair<std::string, std::string>>& metadata = {});

}  // namespace posd::testing
