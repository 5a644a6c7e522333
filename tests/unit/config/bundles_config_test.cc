#include "service/config/bundles_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config.h"
#include "tests/support/status_matchers.h"

namespace posd::config {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

TEST(BundlesConfigTest, DefaultsWhenAbsent) {
  auto config = ParseConfig("", "posd.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->bundles().dir(), kDefaultBundlesDir);
  EXPECT_EQ(config->bundles().trusted_publisher_keys_size(), 0);
  EXPECT_EQ(config->bundles().ready_timeout_ms(), 60000u);
  EXPECT_EQ(config->bundles().keep_releases(), 3u);
  EXPECT_FALSE(config->bundles().has_https_ca_file());
  EXPECT_EQ(config->bundles().max_release_bytes(), 256ull << 20);
}

TEST(BundlesConfigTest, ReadsEveryKey) {
  auto config = ParseConfig(R"(
bundles:
  dir: /srv/bundles
  trusted_publisher_keys:
    - /etc/posd/ui.pub.pem
    - "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
  ready_timeout_ms: 5000
  keep_releases: 4
  https_ca_file: /etc/posd/ca.pem
  max_release_bytes: 1048576
)",
                            "posd.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->bundles().dir(), "/srv/bundles");
  ASSERT_EQ(config->bundles().trusted_publisher_keys_size(), 2);
  EXPECT_EQ(config->bundles().trusted_publisher_keys(0), "/etc/posd/ui.pub.pem");
  EXPECT_EQ(config->bundles().ready_timeout_ms(), 5000u);
  EXPECT_EQ(config->bundles().keep_releases(), 4u);
  EXPECT_EQ(config->bundles().https_ca_file(), "/etc/posd/ca.pem");
  EXPECT_EQ(config->bundles().max_release_bytes(), 1048576u);
}

TEST(BundlesConfigTest, BadValuesAreNamed) {
  EXPECT_THAT(ParseConfig("bundles: {dir: ''}\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bundles.dir")));
  EXPECT_THAT(ParseConfig("bundles: {trusted_publisher_keys: ['ed25519:AAEC']}\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bundles.trusted_publisher_keys[0]: an inline key")));
  EXPECT_THAT(ParseConfig("bundles: {ready_timeout_ms: 999}\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bundles.ready_timeout_ms: 999 is outside")));
  EXPECT_THAT(ParseConfig("bundles: {keep_releases: 1}\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bundles.keep_releases")));
  EXPECT_THAT(ParseConfig("bundles: {max_release_bytes: 10}\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bundles.max_release_bytes")));
}

}  // namespace
}  // namespace posd::config
