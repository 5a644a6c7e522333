// The plugins the configuration enables, in their configured (= run) order.
//
// Made once at start by LoadPlugins (plugin_registry.h) and immutable after:
// the hook chain, the outbox runner and the API share it read-only, from any
// thread. Plugins are held by shared_ptr so that a before-hook abandoned by
// the chain's time limit can finish on its worker after the set is gone.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "service/hooks/plugin.h"

namespace posd::hooks {

struct LoadedPlugin {
  std::shared_ptr<Plugin> plugin;
  // The settings it was created from, for PluginService.
  google::protobuf::Struct settings;
};

class PluginSet {
 public:
  PluginSet() = default;
  explicit PluginSet(std::vector<LoadedPlugin> plugins) : plugins_(std::move(plugins)) {}

  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  bool empty() const { return plugins_.empty(); }
  // The enabled plugin called `name`, or null.
  std::shared_ptr<Plugin> Find(std::string_view name) const;
  // 1-based position of `name` in the run order; 0 when not enabled.
  int PositionOf(std::string_view name) const;
  // The enabled plugins implementing `point`, in run order.
  std::vector<std::shared_ptr<Plugin>> For(HookPoint point) const;

 private:
  std::vector<LoadedPlugin> plugins_;
};

}  // namespace posd::hooks
