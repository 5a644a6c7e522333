// Bearer-token authentication for the TCP listener.
#pragma once

#include <map>
#include <string>

#include "grpcpp/security/auth_metadata_processor.h"
#include "service/api/caller_role.h"

namespace posd::api {

// Checks "authorization: Bearer <token>" on every call of a TLS listener and
// records the token's role in the auth context (kRoleProperty). A call
// without a known token is refused with UNAUTHENTICATED before any handler
// runs. Thread-safe: the token table is immutable after construction.
class TokenAuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  // `roles_by_token`: every accepted token and the role it grants.
  explicit TokenAuthProcessor(std::map<std::string, Role> roles_by_token);

  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  std::map<std::string, Role> roles_by_token_;
};

}  // namespace posd::api
