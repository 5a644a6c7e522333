// AuditService: the audit log of operator actions (posd.v1.AuditService).
#pragma once

#include "posd/v1/audit.grpc.pb.h"
#include "service/engine/queries.h"

namespace posd::api {

// Serves posd.v1.AuditService on gRPC's callback threads from the engine's
// readers; callers need the operator or fleet role. Read only and
// thread-safe; `queries` must outlive the service.
class AuditService final : public posd::v1::AuditService::CallbackService {
 public:
  explicit AuditService(engine::Queries& queries) : queries_(queries) {}

  grpc::ServerUnaryReactor* ListAuditRecords(grpc::CallbackServerContext* context,
                                             const posd::v1::ListAuditRecordsRequest* request,
                                             posd::v1::ListAuditRecordsResponse* response) override;

 private:
  engine::Queries& queries_;
};

}  // namespace posd::api
