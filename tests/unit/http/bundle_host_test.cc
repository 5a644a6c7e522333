#include "service/http/bundle_host.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::http {
namespace {

namespace fs = std::filesystem;
using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;

void Write(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

class BundleHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "bundles";
    const fs::path release = root_ / "checkout" / "releases" / "1.0.0";
    Write(release / "index.html", "<!doctype html><title>v1</title>");
    Write(release / "app-4QRWQZ6V.js", "console.log(1)");
    Write(release / "assets" / "style.css", "body{}");
    Write(dir_.path() / "secret.txt", "do not serve");
    Write(root_ / "checkout" / "state.json", "{}");  // bookkeeping beside releases
    fs::create_directory_symlink("releases/1.0.0", root_ / "checkout" / "current");
    host_ = std::make_unique<BundleHost>(root_.string());
  }

  void Switch(const std::string& version) {
    fs::remove(root_ / "checkout" / "current");
    fs::create_directory_symlink("releases/" + version, root_ / "checkout" / "current");
  }

  ::posd::testing::TempDir dir_;
  fs::path root_;
  std::unique_ptr<BundleHost> host_;
};

TEST_F(BundleHostTest, ServesTheEntryPageWithNoCacheAndAStrongEtag) {
  auto file = host_->Get("checkout", "");
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->body, "<!doctype html><title>v1</title>");
  EXPECT_EQ(file->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(file->cache_control, "no-cache");
  EXPECT_EQ(file->etag.size(), 34u);
  EXPECT_EQ(file->etag.front(), '"');
  EXPECT_NE(file->etag.substr(0, 3), "W/\"");
}

TEST_F(BundleHostTest, HashedAssetsAreImmutable) {
  auto js = host_->Get("checkout", "app-4QRWQZ6V.js");
  ASSERT_THAT(js, IsOk());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js->cache_control, "public, max-age=31536000, immutable");
  auto css = host_->Get("checkout", "assets/style.css");
  ASSERT_THAT(css, IsOk());
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(css->cache_control, "no-cache");
}

TEST_F(BundleHostTest, EtagFollowsTheContentAcrossAReleaseSwitch) {
  const std::string first = host_->Get("checkout", "index.html")->etag;
  EXPECT_EQ(host_->Get("checkout", "index.html")->etag, first);
  Write(root_ / "checkout" / "releases" / "1.1.0" / "index.html", "<title>v2</title>");
  Switch("1.1.0");
  auto second = host_->Get("checkout", "index.html");
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->body, "<title>v2</title>");
  EXPECT_NE(second->etag, first);
}

TEST_F(BundleHostTest, TraversalInEveryDisguiseIsRefused) {
  for (const char* path : {"../state.json", "../../secret.txt", "assets/../../state.json",
                           "%2e%2e/state.json", "%2E%2E/%2E%2E/secret.txt", "..%2fstate.json",
                           "%252e%252e/state.json", "%252e%252e%252fstate.json", "./index.html",
                           "assets//style.css", "index.html%00.js", "..\\state.json",
                           "assets%5c..%5c..%5cstate.json", "%", "%zz", "%c0%ae%c0%ae/state.json"}) {
    auto file = host_->Get("checkout", path);
    EXPECT_FALSE(file.ok()) << path;
    if (!file.ok()) {
      EXPECT_TRUE(file.status().code() == absl::StatusCode::kInvalidArgument ||
                  file.status().code() == absl::StatusCode::kNotFound)
          << path << ": " << file.status();
    }
  }
  EXPECT_THAT(host_->Get("checkout", "%2e%2e/state.json"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(host_->Get("checkout", "%252e%252e/state.json"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(host_->Get("checkout", "index.html%00"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(host_->Get("..", "secret.txt"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(BundleHostTest, SymlinksOutOfTheReleaseAreRefused) {
  const fs::path release = root_ / "checkout" / "releases" / "1.0.0";
  fs::create_symlink(dir_.path() / "secret.txt", release / "leak.txt");
  fs::create_symlink("../../state.json", release / "up.json");
  fs::create_directory_symlink(dir_.path(), release / "outside");
  EXPECT_THAT(host_->Get("checkout", "leak.txt"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(host_->Get("checkout", "up.json"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(host_->Get("checkout", "outside/secret.txt"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // A symlink inside the release to a file inside it is fine.
  fs::create_symlink("index.html", release / "home.html");
  EXPECT_THAT(host_->Get("checkout", "home.html"), IsOk());
}

TEST_F(BundleHostTest, CurrentPointingOutOfTheBundleIsRefused) {
  fs::remove(root_ / "checkout" / "current");
  fs::create_directory_symlink(dir_.path(), root_ / "checkout" / "current");
  EXPECT_THAT(host_->Get("checkout", "secret.txt"), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(BundleHostTest, MissingThingsAreNotFound) {
  EXPECT_THAT(host_->Get("kiosk", ""), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(host_->Get("checkout", "nope.js"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(host_->Get("checkout", "assets"), StatusIs(absl::StatusCode::kPermissionDenied));
  fs::create_directories(root_ / "empty");
  EXPECT_THAT(host_->Get("empty", ""), StatusIs(absl::StatusCode::kNotFound));
}

TEST(BundleHostNames, ContentHashDetection) {
  EXPECT_TRUE(BundleHost::IsContentHashedName("app-4QRWQZ6V.js"));
  EXPECT_TRUE(BundleHost::IsContentHashedName("chunk.a1b2c3d4e5.css"));
  EXPECT_FALSE(BundleHost::IsContentHashedName("index.html"));
  EXPECT_FALSE(BundleHost::IsContentHashedName("main.js"));
  EXPECT_FALSE(BundleHost::IsContentHashedName("checkout-screen.js"));  // no digit
  EXPECT_FALSE(BundleHost::IsContentHashedName("app-1234.js"));         // too short
}

TEST(BundleHostNames, ContentSecurityPolicyConnectsOnlyToPosd) {
  const std::string_view csp = BundleHost::ContentSecurityPolicy();
  EXPECT_NE(csp.find("connect-src 'self'"), std::string_view::npos);
  EXPECT_NE(csp.find("default-src 'self'"), std::string_view::npos);
  EXPECT_EQ(csp.find('*'), std::string_view::npos);
}

}  // namespace
}  // namespace posd::http
