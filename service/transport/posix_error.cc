#include "service/transport/posix_error.h"

#include <cerrno>
#include <cstring>

#include "service/common/strings.h"

namespace posd::transport {

std::string ErrnoName(int error_number) {
  // strerrorname_np (glibc 2.32+) is async-signal-safe and needs no buffer.
  if (const char* name = strerrorname_np(error_number); name != nullptr) return name;
  return StrCat("errno ", error_number);
}

absl::Status ErrnoToStatus(int error_number, std::string_view what) {
  std::string message =
      StrCat(what, ": ", std::strerror(error_number), " (", ErrnoName(error_number), ")");
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
    case ENXIO:
    case ENODEV:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EBUSY:
      return absl::FailedPreconditionError(message);
    default:
      return absl::UnavailableError(message);
  }
}

}  // namespace posd::transport
