#include "service/api/hook_service.h"

#include "service/api/engine_call.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/engine/domain_conversion.h"

namespace posd::api {

absl::StatusOr<hooks::HookRunFilter> HookRunFilterFromProto(
    const posd::v1::ListHookRunsRequest& request) {
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  hooks::HookRunFilter filter;
  for (int i = 0; i < request.states_size(); ++i) {
    absl::StatusOr<hooks::HookRunState> state = engine::HookRunStateFromProto(request.states(i));
    if (!state.ok()) {
      return absl::InvalidArgumentError(StrCat("states[", i, "]: ", state.status().message()));
    }
    filter.states.push_back(*state);
  }
  if (request.hook_point() != posd::v1::HOOK_POINT_UNSPECIFIED) {
    POSD_ASSIGN_OR_RETURN(hooks::HookPoint point, engine::HookPointFromProto(request.hook_point()));
    if (hooks::IsBeforeHook(point)) {
      return absl::InvalidArgumentError(StrCat(
          "hook_point: ", hooks::ToString(point),
          " is a before-hook; before-hooks run inside their call and have no runs"));
    }
    filter.hook_point = point;
  }
  filter.plugin = request.plugin();
  filter.subject_id = request.subject_id();
  filter.page_size = request.page_size();
  filter.page_token = request.page_token();
  return filter;
}

absl::StatusOr<posd::v1::ListHookRunsResponse> HookService::List(
    const posd::v1::ListHookRunsRequest& request) const {
  POSD_ASSIGN_OR_RETURN(hooks::HookRunFilter filter, HookRunFilterFromProto(request));
  POSD_ASSIGN_OR_RETURN(hooks::HookRunPage page, engine_.ListRuns(filter));
  posd::v1::ListHookRunsResponse response;
  for (const hooks::HookRun& run : page.runs) {
    *response.add_hook_runs() = engine::HookRunProto(run, engine_.hook_max_attempts());
  }
  response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<posd::v1::HookRun> HookService::Get(const posd::v1::GetHookRunRequest& request) const {
  POSD_ASSIGN_OR_RETURN(hooks::HookRun run, engine_.GetRun(request.hook_run_id()));
  return engine::HookRunProto(run, engine_.hook_max_attempts());
}

HookService::HookService(engine::Engine& engine)
    : ApiAdapter("posd.v1.HookService", &engine), engine_(engine) {
  Unary("ListHookRuns", this, &HookService::ListHookRuns);
  Unary("GetHookRun", this, &HookService::GetHookRun);
  Unary("RetryHookRun", this, &HookService::RetryHookRun);
}

void HookService::ListHookRuns(grpc::CallbackServerContext&,
                               const posd::v1::ListHookRunsRequest& request,
                               engine::Callback<posd::v1::ListHookRunsResponse> done) {
  done(List(request));
}

void HookService::GetHookRun(grpc::CallbackServerContext&,
                             const posd::v1::GetHookRunRequest& request,
                             engine::Callback<posd::v1::HookRun> done) {
  done(Get(request));
}

void HookService::RetryHookRun(grpc::CallbackServerContext& context,
                               const posd::v1::RetryHookRunRequest& request,
                               engine::Callback<posd::v1::HookRun> done) {
  engine_.RetryHookRun(ActorOf(context), request, std::move(done));
}

}  // namespace posd::api
