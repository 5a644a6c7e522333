#include "service/hooks/plugin_registry.h"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "absl/strings/str_join.h"
#include "service/common/strings.h"

namespace posd::hooks {

PluginRegistry& PluginRegistry::Global() {
  // Leaked on purpose: static registrations run before main and the registry
  // must outlive every static destructor that might still look a plugin up.
  static PluginRegistry* registry = new PluginRegistry();
  return *registry;
}

absl::Status PluginRegistry::Register(std::unique_ptr<PluginFactory> factory) {
  if (factory == nullptr || factory->name().empty()) {
    return absl::InvalidArgumentError("a plugin factory needs a name");
  }
  std::string name(factory->name());
  if (factories_.contains(name)) {
    return absl::AlreadyExistsError(StrCat("plugin \"", name, "\" is registered twice"));
  }
  factories_.emplace(std::move(name), std::move(factory));
  return absl::OkStatus();
}

const PluginFactory* PluginRegistry::Find(std::string_view name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second.get();
}

std::vector<const PluginFactory*> PluginRegistry::All() const {
  std::vector<const PluginFactory*> all;
  all.reserve(factories_.size());
  for (const auto& [name, factory] : factories_) all.push_back(factory.get());
  return all;
}

absl::StatusOr<PluginSet> LoadPlugins(
    const google::protobuf::RepeatedPtrField<config::v1::Plugin>& config,
    const PluginRegistry& registry) {
  std::vector<LoadedPlugin> loaded;
  std::set<std::string, std::less<>> seen;
  for (int i = 0; i < config.size(); ++i) {
    const config::v1::Plugin& entry = config.Get(i);
    if (entry.name().empty()) {
      return absl::InvalidArgumentError(StrCat("plugins[", i, "]: name is required"));
    }
    if (!seen.insert(entry.name()).second) {
      return absl::InvalidArgumentError(
          StrCat("plugins[", i, "]: plugin \"", entry.name(), "\" is listed twice"));
    }
    const PluginFactory* factory = registry.Find(entry.name());
    if (factory == nullptr) {
      std::vector<std::string> known;
      for (const PluginFactory* f : registry.All()) known.emplace_back(f->name());
      return absl::NotFoundError(StrCat("plugins[", i, "]: unknown plugin \"", entry.name(),
                                        "\"; known: ",
                                        known.empty() ? "none" : absl::StrJoin(known, ", ")));
    }
    absl::StatusOr<std::unique_ptr<Plugin>> plugin = factory->Create(entry.settings());
    if (!plugin.ok()) return plugin.status();
    if (*plugin == nullptr || (*plugin)->name() != factory->name()) {
      return absl::InternalError(
          StrCat("plugin \"", entry.name(), "\": factory made a plugin of another name"));
    }
    loaded.push_back(LoadedPlugin{.plugin = std::shared_ptr<Plugin>(std::move(*plugin)),
                                  .settings = entry.settings()});
  }
  return PluginSet(std::move(loaded));
}

namespace registry_internal {

bool RegisterOrDie(std::unique_ptr<PluginFactory> factory) {
  absl::Status status = PluginRegistry::Global().Register(std::move(factory));
  if (!status.ok()) {
    // Before main: no logger yet, and no caller to return an error to.
    std::fprintf(stderr, "posd: %s\n", std::string(status.message()).c_str());
    std::abort();
  }
  return true;
}

}  // namespace registry_internal

}  // namespace posd::hooks
