// Who is calling: the role a request was authenticated with.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"

namespace posd::api {

enum class Role { kUi, kOperator, kFleet };

std::string_view RoleName(Role role);

// The auth-context property where TokenAuthProcessor stores the role.
inline constexpr char kRoleProperty[] = "posd-role";

// The role of the caller of `context`. Calls over the Unix socket carry no
// token: whoever may open the socket file is trusted as an operator (the file
// permissions are the access control). Calls over TCP always carry the role of
// their token; TokenAuthProcessor refuses them otherwise.
Role CallerRole(const grpc::ServerContextBase& context);

// Who the caller is, for the audit log: the TCP peer address, or
// "local (unix socket)" for calls over the Unix socket.
std::string CallerName(const grpc::ServerContextBase& context);

// OK when the caller has one of the `allowed` roles; PERMISSION_DENIED naming
// the caller's role and the action otherwise.
absl::Status RequireRole(const grpc::ServerContextBase& context,
                         std::initializer_list<Role> allowed, std::string_view action);

}  // namespace posd::api
