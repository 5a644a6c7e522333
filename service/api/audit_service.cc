#include "service/api/audit_service.h"

#include "service/api/engine_call.h"

namespace posd::api {

grpc::ServerUnaryReactor* AuditService::ListAuditRecords(
    grpc::CallbackServerContext* context, const posd::v1::ListAuditRecordsRequest* request,
    posd::v1::ListAuditRecordsResponse* response) {
  if (absl::Status allowed =
          RequireRole(*context, {Role::kOperator, Role::kFleet}, "read the audit log");
      !allowed.ok()) {
    return FinishNow(context, allowed);
  }
  if (request->page_size() < 0) {
    return FinishNow(context, absl::InvalidArgumentError("page_size must not be negative"));
  }
  return FinishRead(context, queries_.ListAuditRecords(*request), response);
}

}  // namespace posd::api
