// HookService: after-hook runs of the hook_runs outbox (posd.v1.HookService).
#pragma once

#include "absl/status/statusor.h"
#include "posd/v1/hooks.pb.h"
#include "service/api/api_adapter.h"
#include "service/engine/engine.h"
#include "service/hooks/hook_run_store.h"

namespace posd::api {

// Serves posd.v1.HookService behind the API edge (api_adapter.h): lists and reads go
// to the engine's readers; RetryHookRun is an engine command (operator or
// fleet role, idempotent by request_id, audited), answered after its commit.
// Thread-safe; `engine` must outlive the service.
class HookService final : public ApiAdapter {
 public:
  explicit HookService(engine::Engine& engine);

  void ListHookRuns(grpc::CallbackServerContext& context,
                    const posd::v1::ListHookRunsRequest& request,
                    engine::Callback<posd::v1::ListHookRunsResponse> done);
  void GetHookRun(grpc::CallbackServerContext& context, const posd::v1::GetHookRunRequest& request,
                  engine::Callback<posd::v1::HookRun> done);
  void RetryHookRun(grpc::CallbackServerContext& context,
                    const posd::v1::RetryHookRunRequest& request,
                    engine::Callback<posd::v1::HookRun> done);

  // The read bodies, without gRPC. INVALID_ARGUMENT for an unspecified or
  // unknown state or hook point in the filters, a before-hook point (those
  // have no runs), a negative page size or a foreign page token.
  absl::StatusOr<posd::v1::ListHookRunsResponse> List(
      const posd::v1::ListHookRunsRequest& request) const;
  // INVALID_ARGUMENT for an empty id; NOT_FOUND for an unknown one.
  absl::StatusOr<posd::v1::HookRun> Get(const posd::v1::GetHookRunRequest& request) const;

 private:
  engine::Engine& engine_;
};

// The filter of a ListHookRunsRequest, checked (see HookService::List).
absl::StatusOr<hooks::HookRunFilter> HookRunFilterFromProto(
    const posd::v1::ListHookRunsRequest& request);

}  // namespace posd::api
