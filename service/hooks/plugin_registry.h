// The registry of plugin factories, by name (the Envoy extension pattern):
// each plugin folder defines a factory with a name and a typed settings
// message and registers it statically with POSD_REGISTER_PLUGIN. The core
// looks factories up by the names in the configuration and never names a
// plugin itself; adding a plugin never touches the core.
//
// Static registration only survives linking if the plugin's object file is
// linked whole: plugins are linked through the `posd_plugins` target, which
// uses whole-archive linking (plugins/CMakeLists.txt).
//
// Thread safety: registration happens during static initialisation (single
// threaded); afterwards the registry is only read, from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/struct.pb.h"
#include "posd/config/v1/config.pb.h"
#include "service/common/status_macros.h"
#include "service/hooks/hook_point.h"
#include "service/hooks/plugin.h"
#include "service/hooks/plugin_set.h"
#include "service/hooks/plugin_settings.h"

namespace posd::hooks {

class PluginFactory {
 public:
  virtual ~PluginFactory() = default;

  // Unique name, as used in the configuration: lower_snake, e.g. "discount".
  virtual std::string_view name() const = 0;
  // One line for PluginService, e.g. "Coupon codes: percentage or fixed
  // discounts with limits".
  virtual std::string_view description() const = 0;
  // The hook points plugins of this factory implement (also shown for
  // disabled plugins).
  virtual std::vector<HookPoint> hook_points() const = 0;

  // Validates `settings` and creates the plugin. INVALID_ARGUMENT naming the
  // plugin and the offending key for bad settings; other codes when the
  // plugin cannot start (e.g. UNAVAILABLE: its printer is missing).
  virtual absl::StatusOr<std::unique_ptr<Plugin>> Create(
      const google::protobuf::Struct& settings) const = 0;
};

// A factory whose settings are the protobuf message `Settings`: the Struct is
// parsed strictly (plugin_settings.h), then handed to CreateFromSettings,
// which checks the values and builds the plugin.
template <typename Settings>
class TypedPluginFactory : public PluginFactory {
 public:
  absl::StatusOr<std::unique_ptr<Plugin>> Create(
      const google::protobuf::Struct& settings) const final {
    Settings typed;
    POSD_RETURN_IF_ERROR(ParsePluginSettings(name(), settings, &typed));
    return CreateFromSettings(typed);
  }

 protected:
  virtual absl::StatusOr<std::unique_ptr<Plugin>> CreateFromSettings(
      const Settings& settings) const = 0;
};

class PluginRegistry {
 public:
  PluginRegistry() = default;
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // The process-wide registry that POSD_REGISTER_PLUGIN fills.
  static PluginRegistry& Global();

  // ALREADY_EXISTS when a factory of that name is registered;
  // INVALID_ARGUMENT for an empty name.
  absl::Status Register(std::unique_ptr<PluginFactory> factory);
  // Null when unknown.
  const PluginFactory* Find(std::string_view name) const;
  // Every registered factory, by name.
  std::vector<const PluginFactory*> All() const;

 private:
  std::map<std::string, std::unique_ptr<PluginFactory>, std::less<>> factories_;
};

// Creates the plugins `config` enables, in its order, through `registry`.
// Errors name the plugin: NOT_FOUND for a name no factory has ("unknown
// plugin \"coupons\"; known: discount, receipt, tip"), INVALID_ARGUMENT for a
// missing or repeated name or bad settings, and whatever a factory returns.
absl::StatusOr<PluginSet> LoadPlugins(
    const google::protobuf::RepeatedPtrField<config::v1::Plugin>& config,
    const PluginRegistry& registry = PluginRegistry::Global());

namespace registry_internal {
// Registers into the global registry; aborts the process on a duplicate name
// (two plugins claiming one name is a build mistake that must not start).
bool RegisterOrDie(std::unique_ptr<PluginFactory> factory);
}  // namespace registry_internal

}  // namespace posd::hooks

// In a plugin's .cc file, at namespace scope:
//   POSD_REGISTER_PLUGIN(DiscountPluginFactory);
#define POSD_REGISTER_PLUGIN(FactoryClass)                                       \
  [[maybe_unused]] static const bool posd_plugin_registered_##FactoryClass =     \
      ::posd::hooks::registry_internal::RegisterOrDie(std::make_unique<FactoryClass>())
