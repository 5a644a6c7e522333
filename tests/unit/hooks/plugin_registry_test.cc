#include "service/hooks/plugin_registry.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/hooks/test_settings.pb.h"

namespace posd::hooks {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

class GreeterPlugin final : public Plugin {
 public:
  explicit GreeterPlugin(std::string greeting) : greeting_(std::move(greeting)) {}
  std::string_view name() const override { return "greeter"; }
  std::vector<HookPoint> hook_points() const override { return {HookPoint::kAfterOrder}; }
  const std::string& greeting() const { return greeting_; }

 private:
  std::string greeting_;
};

class GreeterFactory final : public TypedPluginFactory<test::TestSettings> {
 public:
  std::string_view name() const override { return "greeter"; }
  std::string_view description() const override { return "Says hello"; }
  std::vector<HookPoint> hook_points() const override { return {HookPoint::kAfterOrder}; }

 protected:
  absl::StatusOr<std::unique_ptr<Plugin>> CreateFromSettings(
      const test::TestSettings& settings) const override {
    if (settings.count() < 0) {
      return absl::InvalidArgumentError("plugin \"greeter\": count must not be negative");
    }
    return std::make_unique<GreeterPlugin>(settings.greeting());
  }
};

// Registered statically, as a plugin folder does.
POSD_REGISTER_PLUGIN(GreeterFactory);

google::protobuf::Struct Json(const std::string& json) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return s;
}

config::v1::Plugin Entry(const std::string& name, const std::string& settings_json = "{}") {
  config::v1::Plugin entry;
  entry.set_name(name);
  *entry.mutable_settings() = Json(settings_json);
  return entry;
}

TEST(PluginRegistryTest, StaticRegistrationIsFoundByName) {
  const PluginFactory* factory = PluginRegistry::Global().Find("greeter");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->description(), "Says hello");
  EXPECT_EQ(PluginRegistry::Global().Find("nope"), nullptr);
}

TEST(PluginRegistryTest, DuplicateNameIsRefused) {
  PluginRegistry registry;
  POSD_ASSERT_OK(registry.Register(std::make_unique<GreeterFactory>()));
  EXPECT_THAT(registry.Register(std::make_unique<GreeterFactory>()),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(PluginRegistryTest, LoadsInConfiguredOrderWithTypedSettings) {
  google::protobuf::RepeatedPtrField<config::v1::Plugin> config;
  *config.Add() = Entry("greeter", R"({"greeting": "moin", "items": [{"code": "A",
      "percentBp": 1500}], "main_item": {"code": "B"}, "by_name": {"x": {"code": "C"}}})");
  absl::StatusOr<PluginSet> set = LoadPlugins(config);
  POSD_ASSERT_OK(set);
  ASSERT_EQ(set->plugins().size(), 1u);
  EXPECT_EQ(set->PositionOf("greeter"), 1);
  EXPECT_EQ(set->PositionOf("other"), 0);
  auto greeter = std::dynamic_pointer_cast<GreeterPlugin>(set->Find("greeter"));
  ASSERT_NE(greeter, nullptr);
  EXPECT_EQ(greeter->greeting(), "moin");
  EXPECT_EQ(set->For(HookPoint::kAfterOrder).size(), 1u);
  EXPECT_TRUE(set->For(HookPoint::kBeforeOrder).empty());
}

TEST(PluginRegistryTest, UnknownPluginIsNotFoundNamingIt) {
  google::protobuf::RepeatedPtrField<config::v1::Plugin> config;
  *config.Add() = Entry("coupons");
  EXPECT_THAT(LoadPlugins(config),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("plugins[0]: unknown plugin \"coupons\"; known: ")));
}

TEST(PluginRegistryTest, RepeatedOrNamelessEntriesAreRefused) {
  google::protobuf::RepeatedPtrField<config::v1::Plugin> config;
  *config.Add() = Entry("greeter");
  *config.Add() = Entry("greeter");
  EXPECT_THAT(LoadPlugins(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listed twice")));
  config.Clear();
  *config.Add() = Entry("");
  EXPECT_THAT(LoadPlugins(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name is required")));
}

TEST(PluginSettingsTest, UnknownKeysAreRefusedWithTheirPath) {
  test::TestSettings settings;
  EXPECT_THAT(ParsePluginSettings("greeter", Json(R"({"greting": "hi"})"), &settings),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "plugin \"greeter\": unknown setting \"greting\""));
  EXPECT_THAT(ParsePluginSettings("greeter", Json(R"({"items": [{}, {"cod": "A"}]})"), &settings),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "plugin \"greeter\": unknown setting \"items[1].cod\""));
  EXPECT_THAT(ParsePluginSettings("greeter", Json(R"({"main_item": {"x": 1}})"), &settings),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"main_item.x\"")));
  EXPECT_THAT(ParsePluginSettings("greeter", Json(R"({"by_name": {"k": {"y": 1}}})"), &settings),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"by_name[k].y\"")));
}

TEST(PluginSettingsTest, WrongTypesAreRefusedNamingThePlugin) {
  test::TestSettings settings;
  EXPECT_THAT(ParsePluginSettings("greeter", Json(R"({"count": "many"})"), &settings),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("plugin \"greeter\"")));
  EXPECT_THAT(ParsePluginSettings("greeter", Json(R"({"count": 1.5})"), &settings),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // YAML numbers arrive as doubles; whole ones are fine for integer fields.
  POSD_ASSERT_OK(ParsePluginSettings("greeter", Json(R"({"count": 3})"), &settings));
  EXPECT_EQ(settings.count(), 3);
}

TEST(PluginSettingsTest, FactoryChecksValuesAfterParsing) {
  google::protobuf::RepeatedPtrField<config::v1::Plugin> config;
  *config.Add() = Entry("greeter", R"({"count": -1})");
  EXPECT_THAT(LoadPlugins(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("count must not be")));
}

}  // namespace
}  // namespace posd::hooks
