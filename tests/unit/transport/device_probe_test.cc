#include "service/transport/device_probe.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/transport/testing/pty_pair.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::transport {
namespace {

using ::posd::testing::StatusIs;
using ::posd::testing::TempDir;
using ::posd::transport::testing::PtyPair;
using ::testing::HasSubstr;

TEST(DeviceProbeTest, PtySlaveIsAPseudoTerminal) {
  absl::StatusOr<PtyPair> pty = PtyPair::Create();
  POSD_ASSERT_OK(pty);
  absl::StatusOr<DeviceKind> kind = ProbeDevice(pty->slave_path());
  POSD_ASSERT_OK(kind);
  EXPECT_EQ(*kind, DeviceKind::kPseudoTerminal);
}

TEST(DeviceProbeTest, SymlinkToAPtySlaveIsAPseudoTerminal) {
  // What socat's link= option and udev rules create.
  absl::StatusOr<PtyPair> pty = PtyPair::Create();
  POSD_ASSERT_OK(pty);
  TempDir dir;
  const std::filesystem::path link = dir.File("terminal0");
  std::filesystem::create_symlink(pty->slave_path(), link);
  absl::StatusOr<DeviceKind> kind = ProbeDevice(link.string());
  POSD_ASSERT_OK(kind);
  EXPECT_EQ(*kind, DeviceKind::kPseudoTerminal);
}

TEST(DeviceProbeTest, OtherCharacterDevicesAreNotPseudoTerminals) {
  absl::StatusOr<DeviceKind> kind = ProbeDevice("/dev/null");
  POSD_ASSERT_OK(kind);
  EXPECT_EQ(*kind, DeviceKind::kCharacterDevice);
}

TEST(DeviceProbeTest, PtmxIsNotASlave) {
  if (!std::filesystem::exists("/dev/ptmx")) GTEST_SKIP() << "no /dev/ptmx";
  absl::StatusOr<DeviceKind> kind = ProbeDevice("/dev/ptmx");
  POSD_ASSERT_OK(kind);
  EXPECT_EQ(*kind, DeviceKind::kCharacterDevice);
}

TEST(DeviceProbeTest, MissingPathIsNotFound) {
  TempDir dir;
  const std::string path = dir.File("ttyUSB9").string();
  EXPECT_THAT(ProbeDevice(path),
              StatusIs(absl::StatusCode::kNotFound, "serial port " + path + " does not exist"));
}

TEST(DeviceProbeTest, DanglingSymlinkIsNotFound) {
  // A by-id link whose adapter was unplugged.
  TempDir dir;
  const std::filesystem::path link = dir.File("by-id");
  std::filesystem::create_symlink(dir.File("gone"), link);
  EXPECT_THAT(ProbeDevice(link.string()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not exist")));
}

TEST(DeviceProbeTest, RegularFileIsNotASerialPort) {
  TempDir dir;
  const std::filesystem::path file = dir.File("not-a-port");
  std::ofstream(file) << "hello";
  EXPECT_THAT(ProbeDevice(file.string()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       file.string() + " is not a serial port (a regular file)"));
}

TEST(DeviceProbeTest, DirectoryIsNotASerialPort) {
  TempDir dir;
  EXPECT_THAT(ProbeDevice(dir.path().string()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(a directory)")));
}

}  // namespace
}  // namespace posd::transport
