// SerialPort::Open's refusals, each with its specific code and message.
//
// What can and cannot be provoked here: tests run as root in a container
// without serial hardware, so
//  - PERMISSION_DENIED is provoked in a child process that drops to the
//    "nobody" user before opening a pty slave it may not open (skipped when
//    not running as root, as an unprivileged user owns its ptys);
//  - EBUSY from TIOCEXCL cannot be provoked (root bypasses it); the flock
//    that refuses a second opener is tested in the integration tests;
//  - libserialport's own open path (real ports) is exercised only up to its
//    refusal of non-serial character devices (/dev/null); opening a real
//    port would touch hardware.
#include <grp.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/transport/serial_port.h"
#include "service/transport/testing/pty_pair.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::transport {
namespace {

using ::posd::testing::StatusIs;
using ::posd::testing::TempDir;
using ::posd::transport::testing::PtyPair;
using ::testing::HasSubstr;
using ::testing::StartsWith;

SerialSettings SettingsFor(const std::string& port) {
  SerialSettings settings;
  settings.port = port;
  return settings;
}

TEST(SerialPortOpenTest, InvalidSettingsAreRejectedBeforeTheDeviceIsTouched) {
  boost::asio::io_context io;
  SerialSettings settings = SettingsFor("/nonexistent/ttyUSB0");
  settings.baud = 12345;
  EXPECT_THAT(SerialPort::Open(io, settings),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("baud 12345")));
}

TEST(SerialPortOpenTest, MissingPortIsNotFound) {
  boost::asio::io_context io;
  TempDir dir;
  const std::string path = dir.File("ttyUSB0").string();
  EXPECT_THAT(SerialPort::Open(io, SettingsFor(path)),
              StatusIs(absl::StatusCode::kNotFound, "serial port " + path + " does not exist"));
}

TEST(SerialPortOpenTest, RegularFileIsNotASerialPort) {
  boost::asio::io_context io;
  TempDir dir;
  const std::filesystem::path file = dir.File("capture.bin");
  std::ofstream(file) << "bytes";
  EXPECT_THAT(SerialPort::Open(io, SettingsFor(file.string())),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith(file.string() + " is not a serial port")));
}

TEST(SerialPortOpenTest, NonSerialCharacterDeviceIsNotASerialPort) {
  boost::asio::io_context io;
  EXPECT_THAT(
      SerialPort::Open(io, SettingsFor("/dev/null")),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("/dev/null is not a serial port")));
}

TEST(SerialPortOpenTest, DtrDsrFlowControlIsUnimplementedOnAPseudoTerminal) {
  boost::asio::io_context io;
  absl::StatusOr<PtyPair> pty = PtyPair::Create();
  POSD_ASSERT_OK(pty);
  SerialSettings settings = SettingsFor(pty->slave_path());
  settings.flow_control = FlowControl::kDtrDsr;
  EXPECT_THAT(SerialPort::Open(io, settings),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("dtrdsr")));
}

TEST(SerialPortOpenTest, PseudoTerminalOpensThroughTermios) {
  boost::asio::io_context io;
  absl::StatusOr<PtyPair> pty = PtyPair::Create();
  POSD_ASSERT_OK(pty);
  absl::StatusOr<std::unique_ptr<SerialPort>> port =
      SerialPort::Open(io, SettingsFor(pty->slave_path()));
  POSD_ASSERT_OK(port);
  EXPECT_TRUE((*port)->is_pseudo_terminal());
  EXPECT_TRUE((*port)->is_open());
  EXPECT_EQ((*port)->description(), "serial port " + pty->slave_path());
  EXPECT_EQ((*port)->settings().port, pty->slave_path());
  (*port)->Close();
  EXPECT_FALSE((*port)->is_open());
  EXPECT_THAT((*port)->Write({1, 2, 3}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is closed")));
}

// Runs in a forked child (death-test machinery): drops root, opens, and
// reports the status code as the exit code and the message on stderr.
[[noreturn]] void OpenAsNobody(const std::string& path) {
  constexpr uid_t kNobody = 65534;
  if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) {
    std::fprintf(stderr, "cannot drop privileges\n");
    std::_Exit(100);
  }
  boost::asio::io_context io;
  absl::StatusOr<std::unique_ptr<SerialPort>> port = SerialPort::Open(io, SettingsFor(path));
  std::fprintf(stderr, "%s\n", port.status().ToString().c_str());
  std::_Exit(static_cast<int>(port.status().code()));
}

TEST(SerialPortOpenTest, PortWithoutPermissionIsPermissionDenied) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch to a user without access";
  absl::StatusOr<PtyPair> pty = PtyPair::Create();
  POSD_ASSERT_OK(pty);
  // Pty slaves belong to their creator (root) with mode 0600 or 0620 (group
  // tty); nobody is neither.
  EXPECT_EXIT(OpenAsNobody(pty->slave_path()),
              ::testing::ExitedWithCode(static_cast<int>(absl::StatusCode::kPermissionDenied)),
              "no permission to open " + pty->slave_path() +
                  " \\(is the posd user in the dialout group\\?\\)");
}

}  // namespace
}  // namespace posd::transport
