// The test network itself: a service published in one namespace is seen and
// resolved from another over a veth pair, and nothing leaks: the machine's
// own avahi-daemon (if any) never sees it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/netns.h"
#include "tests/support/temp_dir.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(PrivateAvahiTest, AServicePublishedInOneNamespaceResolvesInTheOther) {
  if (std::string why = NetworkTestsUnavailable(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  auto terminal_ns = NetNamespace::Create("avt");
  ASSERT_TRUE(terminal_ns.ok()) << terminal_ns.status();
  auto pos_ns = NetNamespace::Create("avp");
  ASSERT_TRUE(pos_ns.ok()) << pos_ns.status();
  ASSERT_TRUE(ConnectWithVeth(**terminal_ns, "vt", "10.231.0.2/24", **pos_ns, "vp",
                              "10.231.0.1/24")
                  .ok());
  auto terminal_avahi =
      PrivateAvahi::Start(**terminal_ns, dir.path() / "terminal", {"vt"}, "posd-test-terminal");
  ASSERT_TRUE(terminal_avahi.ok()) << terminal_avahi.status();
  auto pos_avahi = PrivateAvahi::Start(**pos_ns, dir.path() / "pos", {"vp"}, "posd-test-pos");
  ASSERT_TRUE(pos_avahi.ok()) << pos_avahi.status();

  std::filesystem::create_directories(dir.path() / "publish");
  Subprocess publisher = Subprocess::Start(
      (*terminal_ns)->Wrap({"avahi-publish", "-s", "Private Net Check", "_posterm._tcp", "4711",
                            "id=check-1", "proto=1"}),
      dir.path() / "publish", {(*terminal_avahi)->env()});

  std::string seen;
  const bool resolved = WaitUntil(
      [&] {
        const CommandResult browse = RunCommand(
            (*pos_ns)->Wrap({"avahi-browse", "-rpt", "_posterm._tcp"}), 10s,
            {(*pos_avahi)->env()});
        seen = browse.out;
        return seen.find("id=check-1") != std::string::npos;
      },
      20s);
  EXPECT_TRUE(resolved) << "avahi-browse printed:\n"
                        << seen << "\nterminal daemon:\n"
                        << (*terminal_avahi)->DaemonLog();
  EXPECT_THAT(seen, HasSubstr("10.231.0.2"));
  EXPECT_THAT(seen, HasSubstr("4711"));
}

}  // namespace
}  // namespace posd::testing
