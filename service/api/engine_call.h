// Helpers shared by the services that drive the engine: who calls, and how
// an engine result finishes a unary call.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "service/api/caller_role.h"
#include "service/api/status_conversion.h"
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

// Finishes `reactor` with `status`.
inline grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                           const absl::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Finishes the call with `refusal.error` once the engine has written the
// refusal of this audited action to the audit log (or logged why it could
// not: the caller's error is the same either way).
inline grpc::ServerUnaryReactor* FinishRefused(grpc::CallbackServerContext* context,
                                               engine::Engine& engine, engine::Refusal refusal) {
  auto* reactor = context->DefaultReactor();
  const grpc::Status status = ToGrpcStatus(refusal.error);
  engine.RecordRefusal(std::move(refusal),
                       [reactor, status](const absl::Status&) { reactor->Finish(status); });
  return reactor;
}

// A callback for the engine that copies the result into `response` and
// finishes the call (on the engine's writer thread, after the commit).
template <typename T>
engine::Callback<T> FinishWith(grpc::ServerUnaryReactor* reactor, T* response) {
  return [reactor, response](absl::StatusOr<T> result) {
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(ToGrpcStatus(result.status()));
  };
}

// Finishes a read with its result.
template <typename T>
grpc::ServerUnaryReactor* FinishRead(grpc::CallbackServerContext* context,
                                     absl::StatusOr<T> result, T* response) {
  if (result.ok()) *response = *std::move(result);
  return FinishNow(context, result.status());
}

}  // namespace posd::api
