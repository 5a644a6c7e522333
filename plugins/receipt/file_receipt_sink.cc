#include "plugins/receipt/file_receipt_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "service/common/strings.h"

namespace posd::plugins {
namespace {

absl::Status Unavailable(std::string_view what, const std::string& path, int error) {
  return absl::UnavailableError(StrCat(what, " ", path, ": ", std::strerror(error)));
}

absl::Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("cannot write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0) return Unavailable("cannot sync", path, errno);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileReceiptSink>> FileReceiptSink::Create(std::string directory) {
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(StrCat("receipt directory ", directory, " does not exist"));
  }
  return std::unique_ptr<FileReceiptSink>(new FileReceiptSink(std::move(directory)));
}

std::string FileReceiptSink::PathFor(std::string_view idempotency_key) const {
  std::string name;
  for (char c : idempotency_key) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.';
    name.push_back(safe ? c : '_');
  }
  return StrCat(directory_, "/", name, ".escpos");
}

absl::Status FileReceiptSink::Deliver(std::string_view idempotency_key, std::string_view bytes) {
  if (idempotency_key.empty()) return absl::InvalidArgumentError("receipt without a key");
  const std::string path = PathFor(idempotency_key);
  if (::access(path.c_str(), F_OK) == 0) return absl::OkStatus();  // delivered before

  std::string temp_template = StrCat(directory_, "/.receipt-XXXXXX");
  const int fd = ::mkstemp(temp_template.data());
  if (fd < 0) return Unavailable("cannot create a file in", directory_, errno);
  absl::Status written = WriteAll(fd, bytes, temp_template);
  ::close(fd);
  if (written.ok()) {
    // link() refuses an existing name, so two deliveries of one key racing
    // each other still leave exactly one file.
    if (::link(temp_template.c_str(), path.c_str()) != 0 && errno != EEXIST) {
      written = Unavailable("cannot create", path, errno);
    }
  }
  ::unlink(temp_template.c_str());
  if (!written.ok()) return written;
  const int dir = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);  // make the new name durable before the run is recorded done
    ::close(dir);
  }
  return absl::OkStatus();
}

}  // namespace posd::plugins
