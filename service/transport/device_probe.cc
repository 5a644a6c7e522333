#include "service/transport/device_probe.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <string>

#include "service/transport/posix_error.h"
#include "service/common/strings.h"

namespace posd::transport {
namespace {

// Linux reserves majors 136..143 for Unix98 pty slaves (linux/major.h:
// UNIX98_PTY_SLAVE_MAJOR, UNIX98_PTY_MAJOR_COUNT). A name test ("/dev/pts/")
// would miss symlinks and private devpts mounts, hence numbers.
constexpr unsigned kPtySlaveMajorFirst = 136;
constexpr unsigned kPtySlaveMajorLast = 136 + 8 - 1;

std::string_view FileTypeName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a character device";
}

}  // namespace

absl::Status NoPermissionError(std::string_view path) {
  return absl::PermissionDeniedError(
      StrCat("no permission to open ", path, " (is the posd user in the dialout group?)"));
}

absl::StatusOr<DeviceKind> ProbeDevice(std::string_view path) {
  const std::string path_string(path);
  struct stat st {};
  if (::stat(path_string.c_str(), &st) != 0) {
    const int error = errno;
    switch (error) {
      case ENOENT:
      case ENOTDIR:
        return absl::NotFoundError(StrCat("serial port ", path, " does not exist"));
      case EACCES:
      case EPERM:
        return NoPermissionError(path);
      default:
        return ErrnoToStatus(error, StrCat("cannot inspect serial port ", path));
    }
  }
  if (!S_ISCHR(st.st_mode)) {
    return absl::InvalidArgumentError(
        StrCat(path, " is not a serial port (", FileTypeName(st.st_mode), ")"));
  }
  const unsigned device_major = major(st.st_rdev);
  if (device_major >= kPtySlaveMajorFirst && device_major <= kPtySlaveMajorLast) {
    return DeviceKind::kPseudoTerminal;
  }
  // A second opinion that survives a renumbering: the node lives on devpts.
  // /dev/pts/ptmx also lives there but is the master multiplexer, not a slave.
  struct statfs fs {};
  if (::statfs(path_string.c_str(), &fs) == 0 && fs.f_type == DEVPTS_SUPER_MAGIC &&
      !(device_major == 5 && minor(st.st_rdev) == 2)) {
    return DeviceKind::kPseudoTerminal;
  }
  return DeviceKind::kCharacterDevice;
}

}  // namespace posd::transport
