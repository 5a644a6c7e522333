// AuditService: the audit log of operator actions (posd.v1.AuditService).
#pragma once

#include "posd/v1/audit.pb.h"
#include "service/api/api_adapter.h"
#include "service/engine/queries.h"

namespace posd::api {

// Serves posd.v1.AuditService behind the API edge (api_adapter.h) from the engine's
// readers; callers need the operator or fleet role. Read only and
// thread-safe; `queries` must outlive the service.
class AuditService final : public ApiAdapter {
 public:
  explicit AuditService(engine::Queries& queries);

  void ListAuditRecords(grpc::CallbackServerContext& context,
                        const posd::v1::ListAuditRecordsRequest& request,
                        engine::Callback<posd::v1::ListAuditRecordsResponse> done);

 private:
  engine::Queries& queries_;
};

}  // namespace posd::api
