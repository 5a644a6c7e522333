#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/hooks/plugin_registry.h"

namespace posd::hooks {
namespace {

using ::testing::IsSupersetOf;

// Nothing in this test names a plugin's code: only the registry can find
// them, as in posd.
TEST(PluginsRegistrationTest, LinkingPosdPluginsRegistersEveryPlugin) {
  std::vector<std::string> names;
  for (const PluginFactory* factory : PluginRegistry::Global().All()) {
    names.emplace_back(factory->name());
    EXPECT_FALSE(factory->description().empty()) << factory->name();
    EXPECT_FALSE(factory->hook_points().empty()) << factory->name();
  }
  EXPECT_THAT(names, IsSupersetOf({"discount", "receipt", "tip"}));
}

}  // namespace
}  // namespace posd::hooks
