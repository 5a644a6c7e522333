#include "service/api/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/status/statusor.h"
#include "service/common/strings.h"

namespace posd::api {
namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

// Returns true when some process accepts connections on the socket at `path`.
absl::StatusOr<bool> SomeoneListens(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(StrCat("socket(): ", ErrnoText(errno)));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  const int result = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int error = errno;
  ::close(fd);
  if (result == 0) return true;
  if (error == ECONNREFUSED || error == ENOENT) return false;
  return absl::FailedPreconditionError(
      StrCat("cannot tell whether socket ", path, " is in use: ", ErrnoText(error)));
}

}  // namespace

absl::Status PrepareUnixSocketPath(const std::string& path) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (!folder.empty()) {
    std::error_code error;
    if (std::filesystem::create_directories(folder, error)) {
      std::filesystem::permissions(folder, std::filesystem::perms(0750), error);
    }
    if (error) {
      return absl::FailedPreconditionError(
          StrCat("cannot create the socket folder ", folder.string(), ": ", error.message()));
    }
  }
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::FailedPreconditionError(StrCat("cannot inspect ", path, ": ", ErrnoText(errno)));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat(path, " exists and is not a socket; posd will not replace it"));
  }
  auto listening = SomeoneListens(path);
  if (!listening.ok()) return listening.status();
  if (*listening) {
    return absl::FailedPreconditionError(
        StrCat("another process (probably a running posd) is serving on ", path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::FailedPreconditionError(
        StrCat("cannot remove the stale socket ", path, ": ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

}  // namespace posd::api
