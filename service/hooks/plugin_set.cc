#include "service/hooks/plugin_set.h"

namespace posd::hooks {

std::shared_ptr<Plugin> PluginSet::Find(std::string_view name) const {
  for (const LoadedPlugin& loaded : plugins_) {
    if (loaded.plugin->name() == name) return loaded.plugin;
  }
  return nullptr;
}

int PluginSet::PositionOf(std::string_view name) const {
  for (size_t i = 0; i < plugins_.size(); ++i) {
    if (plugins_[i].plugin->name() == name) return static_cast<int>(i) + 1;
  }
  return 0;
}

std::vector<std::shared_ptr<Plugin>> PluginSet::For(HookPoint point) const {
  std::vector<std::shared_ptr<Plugin>> result;
  for (const LoadedPlugin& loaded : plugins_) {
    if (loaded.plugin->Implements(point)) result.push_back(loaded.plugin);
  }
  return result;
}

}  // namespace posd::hooks
