// Plugins through the real posd and posctl: what the configuration enables
// is listed with its settings, and a plugin posd does not have stops it.
#include "google/protobuf/util/json_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posd/v1/plugins.pb.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kPosd[] = POSD_BINARY;
constexpr char kPosctl[] = POSCTL_BINARY;
constexpr auto kExitTimeout = std::chrono::seconds(20);

constexpr char kTipPlugin[] =
    "plugins:\n"
    "  - name: tip\n"
    "    settings:\n"
    "      presets_bp: [1000, 1500, 2000]\n"
    "      max_percent_bp: 2500\n";

class PosdPluginsTest : public ::testing::Test {
 protected:
  PosdPluginsTest() : paths_(dir_.path()) {}

  CommandResult Posctl(std::vector<std::string> args) {
    args.insert(args.begin(), {kPosctl, "--address", paths_.address(), "--timeout", "5s"});
    return RunCommand(args);
  }

  TempDir dir_;
  PosdPaths paths_;
};

TEST_F(PosdPluginsTest, EnabledPluginIsListedFirstWithItsSettings) {
  WritePosdConfig(paths_, kTipPlugin);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();

  const CommandResult json = Posctl({"--output", "json", "plugins", "list"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  posd::v1::ListPluginsResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &response).ok()) << json.out;
  ASSERT_GE(response.plugins_size(), 3);
  const posd::v1::Plugin& tip = response.plugins(0);
  EXPECT_EQ(tip.name(), "tip");
  EXPECT_TRUE(tip.enabled());
  EXPECT_EQ(tip.order(), 1);
  EXPECT_THAT(tip.hook_points(), ::testing::Contains(posd::v1::HOOK_POINT_BEFORE_PAYMENT));
  EXPECT_THAT(tip.config_json(), HasSubstr("2500"));
  EXPECT_FALSE(tip.description().empty());
  for (int i = 1; i < response.plugins_size(); ++i) {
    EXPECT_FALSE(response.plugins(i).enabled()) << response.plugins(i).name();
    EXPECT_EQ(response.plugins(i).order(), 0);
    EXPECT_EQ(response.plugins(i).config_json(), "{}");
  }

  const CommandResult table = Posctl({"plugins", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("tip  enabled #1  HOOK_POINT_BEFORE_PAYMENT"));
  EXPECT_THAT(table.out, HasSubstr("receipt  disabled"));

  const CommandResult show = Posctl({"plugins", "show", "receipt"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  const CommandResult missing = Posctl({"plugins", "show", "coupons"});
  EXPECT_EQ(missing.exit_code, 64 + 5) << missing.out;  // NOT_FOUND
  EXPECT_THAT(missing.err, HasSubstr("coupons"));
}

TEST_F(PosdPluginsTest, UnknownPluginIsRefusedAtStartByName) {
  WritePosdConfig(paths_, "plugins:\n  - name: coupons\n");
  Subprocess posd = Subprocess::Start({kPosd, "--config", paths_.config.string()}, dir_.path());
  EXPECT_EQ(posd.WaitForExit(kExitTimeout), 1);
  EXPECT_THAT(posd.Stderr(), HasSubstr("unknown plugin \"coupons\""));
}

TEST_F(PosdPluginsTest, BadPluginSettingIsRefusedAtStartByName) {
  WritePosdConfig(paths_, "plugins:\n  - name: tip\n    settings:\n      presets_pb: [1000]\n");
  Subprocess posd = Subprocess::Start({kPosd, "--config", paths_.config.string()}, dir_.path());
  EXPECT_EQ(posd.WaitForExit(kExitTimeout), 1);
  EXPECT_THAT(posd.Stderr(), HasSubstr("presets_pb"));
}

}  // namespace
}  // namespace posd::testing
