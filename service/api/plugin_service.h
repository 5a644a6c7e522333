// PluginService: the plugins compiled into posd and the ones the
// configuration enables (posd.v1.PluginService). Read only.
#pragma once

#include "absl/status/statusor.h"
#include "posd/v1/plugins.pb.h"
#include "service/api/api_adapter.h"
#include "service/hooks/plugin_registry.h"
#include "service/hooks/plugin_set.h"

namespace posd::api {

// Serves posd.v1.PluginService behind the API edge (api_adapter.h) from the plugin set
// loaded at start and the registry of every compiled-in plugin. Both are
// immutable after start, so the service is thread-safe; `plugins` and
// `registry` are not owned and must outlive the service.
class PluginService final : public ApiAdapter {
 public:
  PluginService(const hooks::PluginSet& plugins, const hooks::PluginRegistry& registry);

  void ListPlugins(grpc::CallbackServerContext& context, const posd::v1::ListPluginsRequest& request,
                   engine::Callback<posd::v1::ListPluginsResponse> done);
  void GetPlugin(grpc::CallbackServerContext& context, const posd::v1::GetPluginRequest& request,
                 engine::Callback<posd::v1::Plugin> done);

  // The call bodies, without gRPC (also used by tests).
  // INVALID_ARGUMENT for a page token this service did not hand out.
  absl::StatusOr<posd::v1::ListPluginsResponse> List(
      const posd::v1::ListPluginsRequest& request) const;
  // INVALID_ARGUMENT for an empty name, NOT_FOUND for a name no compiled-in
  // plugin has.
  absl::StatusOr<posd::v1::Plugin> Get(const posd::v1::GetPluginRequest& request) const;

 private:
  // Every compiled-in plugin: enabled ones in run order, then the others by name.
  std::vector<posd::v1::Plugin> All() const;
  posd::v1::Plugin Describe(const hooks::PluginFactory& factory) const;

  const hooks::PluginSet& plugins_;
  const hooks::PluginRegistry& registry_;
};

}  // namespace posd::api
