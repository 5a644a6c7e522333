#include "service/api/audit_service.h"

namespace posd::api {

AuditService::AuditService(engine::Queries& queries)
    : ApiAdapter("posd.v1.AuditService", nullptr), queries_(queries) {
  Unary("ListAuditRecords", this, &AuditService::ListAuditRecords);
}

void AuditService::ListAuditRecords(grpc::CallbackServerContext&,
                                    const posd::v1::ListAuditRecordsRequest& request,
                                    engine::Callback<posd::v1::ListAuditRecordsResponse> done) {
  done(queries_.ListAuditRecords(request));
}

}  // namespace posd::api
