#include "service/store/ownership_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace posd::store {
namespace {

std::string ErrnoText(int error) { return std::error_code(error, std::generic_category()).message(); }

absl::StatusCode CodeForErrno(int error) {
  if (error == EACCES || error == EPERM) return absl::StatusCode::kPermissionDenied;
  if (error == ENOENT || error == ENOTDIR) return absl::StatusCode::kNotFound;
  if (error == ENOSPC || error == EDQUOT) return absl::StatusCode::kResourceExhausted;
  return absl::StatusCode::kFailedPrecondition;
}

// The pid the current owner wrote, or "unknown" while it is still writing it.
std::string ReadOwnerPid(int fd) {
  char buffer[32] = {};
  const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return "unknown";
  std::string pid(absl::StripAsciiWhitespace(absl::string_view(buffer, static_cast<size_t>(n))));
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OwnershipLock>> OwnershipLock::Acquire(
    std::string_view database_path_view) {
  const std::string database_path(database_path_view);
  std::string lock_path = absl::StrCat(database_path, ".lock");
  const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    return absl::Status(CodeForErrno(error),
                        absl::StrCat("cannot open lock file ", lock_path, " for database ",
                                     database_path, ": ", ErrnoText(error)));
  }
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    std::string owner = ReadOwnerPid(fd);
    close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database ", database_path, " is already in use by another posd (pid ", owner, ")"));
    }
    return absl::Status(CodeForErrno(error), absl::StrCat("cannot lock ", lock_path, ": ",
                                                          ErrnoText(error)));
  }
  const std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    close(fd);
    return absl::Status(CodeForErrno(error), absl::StrCat("cannot write pid to lock file ",
                                                          lock_path, ": ", ErrnoText(error)));
  }
  return std::unique_ptr<OwnershipLock>(new OwnershipLock(fd, std::move(lock_path)));
}

OwnershipLock::~OwnershipLock() {
  // Closing the only descriptor releases the flock.
  close(fd_);
}

}  // namespace posd::store
