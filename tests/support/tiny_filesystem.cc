#include "tests/support/tiny_filesystem.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace posd::testing {
namespace {

constexpr unsigned long kMountFlags = MS_NOSUID | MS_NODEV;

std::string Errno(int error) { return absl::StrCat(strerror(error), " (errno ", error, ")"); }

}  // namespace

std::string EnterPrivateMountNamespace() {
  if (geteuid() != 0) return "needs root for a private mount namespace";
  if (unshare(CLONE_NEWNS) != 0) return absl::StrCat("unshare(CLONE_NEWNS): ", Errno(errno));
  // Without this, mounts could propagate back to the machine's namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::StrCat("making / private: ", Errno(errno));
  }
  return "";
}

absl::StatusOr<std::unique_ptr<TinyFilesystem>> TinyFilesystem::Mount(
    const std::filesystem::path& mount_point, std::string options) {
  std::error_code ignored;
  std::filesystem::create_directories(mount_point, ignored);
  if (mount("tmpfs", mount_point.c_str(), "tmpfs", kMountFlags, options.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("mount tmpfs on ", mount_point.string(), ": ",
                                            Errno(errno)));
  }
  return std::unique_ptr<TinyFilesystem>(new TinyFilesystem(mount_point, std::move(options)));
}

TinyFilesystem::~TinyFilesystem() { umount2(root_.c_str(), MNT_DETACH); }

absl::Status TinyFilesystem::SetReadOnly(bool read_only) {
  const unsigned long flags = MS_REMOUNT | kMountFlags | (read_only ? MS_RDONLY : 0);
  if (mount("tmpfs", root_.c_str(), "tmpfs", flags, options_.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("remount ", root_.string(), ": ", Errno(errno)));
  }
  return absl::OkStatus();
}

absl::Status TinyFilesystem::Fill() {
  const std::filesystem::path filler = root_ / "filler";
  const int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", filler.string(), ": ", Errno(errno)));
  const std::string chunk(65536, 'f');
  // Ever smaller writes, down to one byte: the last free byte goes too.
  for (size_t size = chunk.size(); size > 0; size /= 2) {
    while (write(fd, chunk.data(), size) == static_cast<ssize_t>(size)) {
    }
  }
  close(fd);
  return absl::OkStatus();
}

void TinyFilesystem::Free() {
  std::error_code ignored;
  std::filesystem::remove(root_ / "filler", ignored);
}

}  // namespace posd::testing
