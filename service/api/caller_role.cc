#include "service/api/caller_role.h"

#include <algorithm>

#include "service/common/strings.h"

namespace posd::api {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kUi: return "ui";
    case Role::kOperator: return "operator";
    case Role::kFleet: return "fleet";
  }
  return "unknown";
}

Role CallerRole(const grpc::ServerContextBase& context) {
  // The in-process channel carries only the HTTP edge's gRPC-Web bridge:
  // browsers, so the UI role whatever they send. gRPC 1.51 names such a
  // peer "unknown" (later versions "inproc"); no socket peer is named so.
  const std::string peer = context.peer();
  if (peer == "unknown" || peer.rfind("inproc", 0) == 0) return Role::kUi;
  const auto auth = context.auth_context();
  if (auth != nullptr) {
    for (const auto& value : auth->FindPropertyValues(kRoleProperty)) {
      const std::string_view name(value.data(), value.size());
      if (name == "ui") return Role::kUi;
      if (name == "fleet") return Role::kFleet;
      if (name == "operator") return Role::kOperator;
    }
  }
  return Role::kOperator;
}

std::string CallerName(const grpc::ServerContextBase& context) {
  const std::string peer = context.peer();
  if (peer.rfind("unix:", 0) == 0) return "local (unix socket)";
  return StrCat(peer, " (", RoleName(CallerRole(context)), " token)");
}

absl::Status RequireRole(const grpc::ServerContextBase& context,
                         std::initializer_list<Role> allowed, std::string_view action) {
  const Role role = CallerRole(context);
  if (std::find(allowed.begin(), allowed.end(), role) != allowed.end()) return absl::OkStatus();
  return absl::PermissionDeniedError(
      StrCat("the ", RoleName(role), " role may not ", action));
}

}  // namespace posd::api
