#include "service/api/token_auth.h"

#include <utility>

namespace posd::api {
namespace {

// Compares without an early exit, so the time taken does not reveal how many
// leading characters of a guessed token were right.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  }
  return difference == 0 && !b.empty();
}

}  // namespace

TokenAuthProcessor::TokenAuthProcessor(std::map<std::string, Role> roles_by_token)
    : roles_by_token_(std::move(roles_by_token)) {}

grpc::Status TokenAuthProcessor::Process(const InputMetadata& auth_metadata,
                                         grpc::AuthContext* context,
                                         OutputMetadata* consumed_auth_metadata,
                                         OutputMetadata* /*response_metadata*/) {
  const auto header = auth_metadata.find("authorization");
  if (header == auth_metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing 'authorization: Bearer <token>' metadata");
  }
  const std::string_view value(header->second.data(), header->second.size());
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.substr(0, kPrefix.size()) != kPrefix) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the authorization metadata must be 'Bearer <token>'");
  }
  const std::string_view presented = value.substr(kPrefix.size());
  for (const auto& [token, role] : roles_by_token_) {
    if (ConstantTimeEquals(presented, token)) {
      context->AddProperty(kRoleProperty, std::string(RoleName(role)));
      consumed_auth_metadata->insert(std::make_pair(std::string(header->first.data(),
                                                                header->first.size()),
                                                    std::string(value)));
      return grpc::Status::OK;
    }
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token");
}

}  // namespace posd::api
