// Who calls, as the engine records it.
#pragma once

#include <string>

#include "grpcpp/server_context.h"
#include "service/api/caller_role.h"
#include "service/engine/engine.h"

namespace posd::api {

// The engine's view of the caller: the principal named in the `posd-actor`
// metadata (posctl sends the login name) or the connection, and the role.
inline engine::Actor ActorOf(const grpc::CallbackServerContext& context) {
  engine::Actor actor{.principal = CallerName(context),
                      .role = std::string(RoleName(CallerRole(context)))};
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("posd-actor"); it != metadata.end() && it->second.size() <= 64 &&
                                             CallerRole(context) == Role::kOperator &&
                                             actor.principal == "local (unix socket)") {
    actor.principal = std::string(it->second.data(), it->second.size()) + " (unix socket)";
  }
  return actor;
}

}  // namespace posd::api
