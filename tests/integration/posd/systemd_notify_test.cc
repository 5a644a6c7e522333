// posd under a service manager: READY=1 once serving, WATCHDOG=1 pings while
// its engine responds, STOPPING=1 on SIGTERM. The test plays systemd: it
// listens on a datagram socket named by NOTIFY_SOCKET.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd::testing {
namespace {

constexpr char kPosd[] = POSD_BINARY;

// A bound AF_UNIX datagram socket, closed on destruction.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    bound_ = fd_ >= 0 &&
             bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
  }
  bool bound() const { return bound_; }

  // The next datagram, or "" when none arrives within `timeout`.
  std::string Receive(std::chrono::milliseconds timeout) {
    timeval tv{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
               .tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buffer[4096];
    const ssize_t size = recv(fd_, buffer, sizeof(buffer), 0);
    return size > 0 ? std::string(buffer, static_cast<std::size_t>(size)) : std::string();
  }

  // Datagrams until one contains `wanted` (true) or `timeout` passes.
  bool WaitFor(std::string_view wanted, std::chrono::milliseconds timeout,
               std::vector<std::string>* seen) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string message = Receive(std::chrono::milliseconds(200));
      if (message.empty()) continue;
      seen->push_back(message);
      if (message.find(wanted) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SystemdNotifyTest, ReadyThenWatchdogPingsThenStopping) {
  TempDir dir;
  PosdPaths paths(dir.path());
  WritePosdConfig(paths);
  NotifySocket manager(dir.path() / "notify.sock");
  ASSERT_TRUE(manager.bound());

  // A 400 ms watchdog: posd must ping every 200 ms while its engine runs.
  Subprocess posd = Subprocess::Start(
      {kPosd, "--config", paths.config.string()}, dir.path(),
      {"NOTIFY_SOCKET=" + (dir.path() / "notify.sock").string(), "WATCHDOG_USEC=400000"});
  std::vector<std::string> seen;
  ASSERT_TRUE(manager.WaitFor("READY=1", std::chrono::seconds(30), &seen)) << posd.Stderr();
  int pings = 0;
  for (int i = 0; i < 3; ++i) {
    if (manager.WaitFor("WATCHDOG=1", std::chrono::seconds(10), &seen)) ++pings;
  }
  EXPECT_EQ(pings, 3) << posd.Stderr();

  posd.Signal(SIGTERM);
  EXPECT_TRUE(manager.WaitFor("STOPPING=1", std::chrono::seconds(10), &seen));
  EXPECT_EQ(posd.WaitForExit(std::chrono::seconds(20)), 0) << posd.Stderr();
}

TEST(SystemdNotifyTest, NoWatchdogPingsUnlessTheManagerAsks) {
  TempDir dir;
  PosdPaths paths(dir.path());
  WritePosdConfig(paths);
  NotifySocket manager(dir.path() / "notify.sock");
  ASSERT_TRUE(manager.bound());
  Subprocess posd =
      Subprocess::Start({kPosd, "--config", paths.config.string()}, dir.path(),
                        {"NOTIFY_SOCKET=" + (dir.path() / "notify.sock").string()});
  std::vector<std::string> seen;
  ASSERT_TRUE(manager.WaitFor("READY=1", std::chrono::seconds(30), &seen)) << posd.Stderr();
  posd.Signal(SIGTERM);
  ASSERT_TRUE(manager.WaitFor("STOPPING=1", std::chrono::seconds(10), &seen));
  for (const std::string& message : seen) {
    EXPECT_EQ(message.find("WATCHDOG=1"), std::string::npos) << message;
  }
  EXPECT_EQ(posd.WaitForExit(std::chrono::seconds(20)), 0) << posd.Stderr();
}

// The shipped unit passes systemd's own checks (these machines run no
// systemd as PID 1, so the unit is verified, not started). The copy runs the
// posd just built instead of /usr/bin/posd, which verify wants to exist.
TEST(SystemdUnitTest, ShippedUnitVerifiesWithoutAComplaint) {
  TempDir dir;
  std::ifstream shipped(std::string(POSD_SOURCE_DIR) + "/deploy/posd.service");
  std::string unit((std::istreambuf_iterator<char>(shipped)), {});
  ASSERT_FALSE(unit.empty());
  for (std::size_t at; (at = unit.find("/usr/bin/posd")) != std::string::npos;) {
    unit.replace(at, std::string_view("/usr/bin/posd").size(), kPosd);
  }
  const auto copy = dir.path() / "posd.service";
  std::ofstream(copy) << unit;
  CommandResult result = RunCommand({"systemd-analyze", "verify", "--man=no", copy.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // Unknown keys are only warned about: any output is a finding.
  EXPECT_EQ(result.out + result.err, "");
}

}  // namespace
}  // namespace posd::testing
