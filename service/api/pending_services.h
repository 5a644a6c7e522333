// Answers for the parts of the API whose implementation has not landed yet.
#pragma once

#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/support/server_callback.h"

namespace posd::api {

// Catches every call that no registered service handles. Calls to methods of
// the published API (proto/posd/v1) that are not live yet end with
// UNIMPLEMENTED and a message naming the work that brings them; calls to
// methods the API does not define end with UNIMPLEMENTED "unknown method".
// Thread-safe and stateless.
class PendingServices final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override;
};

}  // namespace posd::api
