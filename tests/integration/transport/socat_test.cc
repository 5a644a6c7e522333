// Two SerialPorts joined by socat, each opened through the symlink socat
// creates: the way the terminal simulator and manual testing connect posd to
// a "serial cable" without hardware. Skipped when socat is not installed.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/transport/serial_port.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace posd::transport {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::TempDir;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

std::string FindSocat() {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"}) {
    const std::string path = std::string(dir) + "/socat";
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

// A socat process joining two new ptys, linked at `a` and `b`. Stopped by its
// PID (SIGTERM) when destroyed.
class SocatBridge {
 public:
  SocatBridge(const std::string& socat, const std::filesystem::path& a,
              const std::filesystem::path& b, const std::filesystem::path& log) {
    const std::string a_spec = "pty,raw,echo=0,link=" + a.string();
    const std::string b_spec = "pty,raw,echo=0,link=" + b.string();
    std::vector<char*> argv = {const_cast<char*>(socat.c_str()),  const_cast<char*>("-d"),
                               const_cast<char*>("-d"),           const_cast<char*>(a_spec.c_str()),
                               const_cast<char*>(b_spec.c_str()), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // socat -d -d logs to stderr; keep it for diagnosis, out of the test log.
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, socat.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~SocatBridge() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  SocatBridge(const SocatBridge&) = delete;
  SocatBridge& operator=(const SocatBridge&) = delete;

  bool started() const { return pid_ > 0; }
  // False once socat has exited (e.g. bad arguments).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

 private:
  pid_t pid_ = -1;
};

TEST(SocatBridgeTest, BytesPassBothWaysBetweenTwoPortsOpenedBySymlink) {
  const std::string socat = FindSocat();
  if (socat.empty()) GTEST_SKIP() << "socat is not installed";
  TempDir dir;
  const std::filesystem::path a = dir.File("A");
  const std::filesystem::path b = dir.File("B");
  SocatBridge bridge(socat, a, b, dir.File("socat.log"));
  ASSERT_TRUE(bridge.started());

  // socat creates the links once its ptys exist; wait for both, bounded.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(std::filesystem::exists(a) && std::filesystem::exists(b))) {
    ASSERT_TRUE(bridge.running()) << "socat exited; see its log in the test's temp dir";
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "socat did not create its links";
    std::this_thread::sleep_for(10ms);  // Polling interval only, not a correctness wait.
  }

  boost::asio::io_context io;
  SerialSettings settings;
  settings.baud = 115200;
  settings.port = a.string();
  absl::StatusOr<std::unique_ptr<SerialPort>> port_a = SerialPort::Open(io, settings);
  POSD_ASSERT_OK(port_a);
  settings.port = b.string();
  absl::StatusOr<std::unique_ptr<SerialPort>> port_b = SerialPort::Open(io, settings);
  POSD_ASSERT_OK(port_b);
  EXPECT_TRUE((*port_a)->is_pseudo_terminal());
  EXPECT_TRUE((*port_b)->is_pseudo_terminal());

  Bytes at_a;
  Bytes at_b;
  auto collect = [](Bytes& into) {
    return ByteStreamHandlers{
        .on_data =
            [&into](std::span<const std::uint8_t> bytes) {
              into.insert(into.end(), bytes.begin(), bytes.end());
            },
        .on_closed = [](const absl::Status& status) { ADD_FAILURE() << status; }};
  };
  (*port_a)->Start(collect(at_a));
  (*port_b)->Start(collect(at_b));

  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(0, 255);
  Bytes a_to_b(64 * 1024);
  Bytes b_to_a(48 * 1024);
  for (auto& x : a_to_b) x = static_cast<std::uint8_t>(byte(rng));
  for (auto& x : b_to_a) x = static_cast<std::uint8_t>(byte(rng));
  ASSERT_THAT((*port_a)->Write(a_to_b), IsOk());
  ASSERT_THAT((*port_b)->Write(b_to_a), IsOk());

  const auto io_deadline = std::chrono::steady_clock::now() + 20s;
  while (at_b.size() < a_to_b.size() || at_a.size() < b_to_a.size()) {
    ASSERT_LT(std::chrono::steady_clock::now(), io_deadline)
        << "B got " << at_b.size() << " of " << a_to_b.size() << ", A got " << at_a.size() << " of "
        << b_to_a.size();
    io.restart();
    io.run_for(5ms);
  }
  EXPECT_TRUE(at_b == a_to_b);
  EXPECT_TRUE(at_a == b_to_a);
  (*port_a)->Close();
  (*port_b)->Close();
}

}  // namespace
}  // namespace posd::transport
