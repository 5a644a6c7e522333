#include "service/api/plugin_service.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "service/api/engine_call.h"
#include "service/common/error_info.h"
#include "service/common/strings.h"
#include "service/engine/domain_conversion.h"
#include "service/hooks/plugin_settings.h"

namespace posd::api {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 500;

}  // namespace

PluginService::PluginService(const hooks::PluginSet& plugins,
                             const hooks::PluginRegistry& registry)
    : ApiAdapter("posd.v1.PluginService", nullptr), plugins_(plugins), registry_(registry) {
  Unary("ListPlugins", this, &PluginService::ListPlugins);
  Unary("GetPlugin", this, &PluginService::GetPlugin);
}

posd::v1::Plugin PluginService::Describe(const hooks::PluginFactory& factory) const {
  posd::v1::Plugin plugin;
  plugin.set_name(std::string(factory.name()));
  plugin.set_description(std::string(factory.description()));
  const int position = plugins_.PositionOf(factory.name());
  plugin.set_enabled(position > 0);
  plugin.set_order(position);
  for (hooks::HookPoint point : factory.hook_points()) plugin.add_hook_points(engine::HookPointProto(point));
  plugin.set_config_json("{}");
  if (position > 0) {
    const auto& loaded = plugins_.plugins()[static_cast<size_t>(position - 1)];
    plugin.set_config_json(hooks::PluginSettingsToJson(loaded.settings));
  }
  return plugin;
}

std::vector<posd::v1::Plugin> PluginService::All() const {
  std::vector<posd::v1::Plugin> all;
  for (const hooks::PluginFactory* factory : registry_.All()) all.push_back(Describe(*factory));
  // Enabled first in run order (order 1, 2, ...), then disabled by name; the
  // registry already lists by name and stable_sort keeps that.
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    const int rank_a = a.enabled() ? a.order() : kMaxPageSize * 1000;
    const int rank_b = b.enabled() ? b.order() : kMaxPageSize * 1000;
    return rank_a < rank_b;
  });
  return all;
}

absl::StatusOr<posd::v1::ListPluginsResponse> PluginService::List(
    const posd::v1::ListPluginsRequest& request) const {
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  const int page_size = request.page_size() == 0 ? kDefaultPageSize
                                                 : std::min(request.page_size(), kMaxPageSize);
  size_t offset = 0;
  const std::string& token = request.page_token();
  if (!token.empty()) {
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), offset);
    if (error != std::errc() || end != token.data() + token.size()) {
      return WithErrorDetails(
          absl::InvalidArgumentError(StrCat("page_token ", QuoteInput(token), " is not valid")),
          ErrorDetails{.reason = ErrorReason::kInvalidPageToken,
                       .metadata = {{"field", "page_token"}}});
    }
  }
  const std::vector<posd::v1::Plugin> all = All();
  posd::v1::ListPluginsResponse response;
  size_t index = std::min(offset, all.size());
  for (; index < all.size() && response.plugins_size() < page_size; ++index) {
    *response.add_plugins() = all[index];
  }
  if (index < all.size()) response.set_next_page_token(std::to_string(index));
  return response;
}

absl::StatusOr<posd::v1::Plugin> PluginService::Get(
    const posd::v1::GetPluginRequest& request) const {
  if (request.name().empty()) return absl::InvalidArgumentError("name is required");
  const hooks::PluginFactory* factory = registry_.Find(request.name());
  if (factory == nullptr) {
    return absl::NotFoundError(StrCat("no plugin \"", request.name(), "\" in this posd"));
  }
  return Describe(*factory);
}

void PluginService::ListPlugins(grpc::CallbackServerContext&,
                                const posd::v1::ListPluginsRequest& request,
                                engine::Callback<posd::v1::ListPluginsResponse> done) {
  done(List(request));
}

void PluginService::GetPlugin(grpc::CallbackServerContext&, const posd::v1::GetPluginRequest& request,
                              engine::Callback<posd::v1::Plugin> done) {
  done(Get(request));
}

}  // namespace posd::api
