#include "service/transport/testing/pty_pair.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "service/common/strings.h"

namespace posd::transport::testing {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status Errno(std::string_view what) {
  const int error = errno;
  return absl::UnavailableError(StrCat(what, ": ", std::strerror(error)));
}

// Milliseconds left until `deadline`, for poll(); 0 when it has passed.
int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

// Waits for `events` on `fd` until `deadline`. True when ready.
absl::StatusOr<bool> WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int ready = ::poll(&p, 1, RemainingMs(deadline));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return Errno("poll on pty master");
  }
}

}  // namespace

absl::StatusOr<PtyPair> PtyPair::Create() {
  termios raw{};
  cfmakeraw(&raw);
  cfsetspeed(&raw, B115200);
  int master = -1;
  int slave = -1;
  char name[128] = {};
  if (::openpty(&master, &slave, name, &raw, nullptr) != 0) return Errno("openpty");
  PtyPair pair(master, slave, name);
  const int flags = ::fcntl(master, F_GETFL);
  if (flags < 0 || ::fcntl(master, F_SETFL, flags | O_NONBLOCK) != 0 ||
      ::fcntl(master, F_SETFD, FD_CLOEXEC) != 0 || ::fcntl(slave, F_SETFD, FD_CLOEXEC) != 0) {
    return Errno("fcntl on pty");
  }
  return pair;
}

PtyPair::PtyPair(int master_fd, int slave_fd, std::string slave_path)
    : master_fd_(master_fd), slave_fd_(slave_fd), slave_path_(std::move(slave_path)) {}

PtyPair::PtyPair(PtyPair&& other) noexcept
    : master_fd_(std::exchange(other.master_fd_, -1)),
      slave_fd_(std::exchange(other.slave_fd_, -1)),
      slave_path_(std::move(other.slave_path_)) {}

PtyPair& PtyPair::operator=(PtyPair&& other) noexcept {
  if (this != &other) {
    CloseMaster();
    CloseSlave();
    master_fd_ = std::exchange(other.master_fd_, -1);
    slave_fd_ = std::exchange(other.slave_fd_, -1);
    slave_path_ = std::move(other.slave_path_);
  }
  return *this;
}

PtyPair::~PtyPair() {
  CloseMaster();
  CloseSlave();
}

void PtyPair::CloseMaster() {
  if (master_fd_ >= 0) ::close(master_fd_);
  master_fd_ = -1;
}

void PtyPair::CloseSlave() {
  if (slave_fd_ >= 0) ::close(slave_fd_);
  slave_fd_ = -1;
}

absl::Status PtyPair::WriteToMaster(std::string_view bytes, std::chrono::milliseconds timeout) {
  return WriteToMaster(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                       timeout);
}

absl::Status PtyPair::WriteToMaster(std::span<const std::uint8_t> bytes,
                                    std::chrono::milliseconds timeout) {
  if (master_fd_ < 0) return absl::FailedPreconditionError("pty master is closed");
  const Clock::time_point deadline = Clock::now() + timeout;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(master_fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return Errno("write to pty master");
    absl::StatusOr<bool> ready = WaitFor(master_fd_, POLLOUT, deadline);
    if (!ready.ok()) return ready.status();
    if (!*ready) {
      return absl::DeadlineExceededError(
          StrCat("wrote only ", done, " of ", bytes.size(), " bytes to the pty master"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::uint8_t>> PtyPair::ReadSomeFromMaster(
    std::chrono::milliseconds timeout, std::size_t max_bytes) {
  if (master_fd_ < 0) return absl::FailedPreconditionError("pty master is closed");
  const Clock::time_point deadline = Clock::now() + timeout;
  std::vector<std::uint8_t> bytes(max_bytes);
  for (;;) {
    const ssize_t n = ::read(master_fd_, bytes.data(), bytes.size());
    if (n >= 0) {
      bytes.resize(static_cast<std::size_t>(n));
      return bytes;
    }
    if (errno == EINTR) continue;
    if (errno == EIO) return absl::UnavailableError("pty slave side is closed (EIO)");
    if (errno != EAGAIN) return Errno("read from pty master");
    absl::StatusOr<bool> ready = WaitFor(master_fd_, POLLIN, deadline);
    if (!ready.ok()) return ready.status();
    if (!*ready) return std::vector<std::uint8_t>();
  }
}

absl::StatusOr<std::vector<std::uint8_t>> PtyPair::ReadFromMaster(
    std::size_t count, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::vector<std::uint8_t> bytes;
  bytes.reserve(count);
  while (bytes.size() < count) {
    const auto left =
        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
                 std::chrono::milliseconds(0));
    absl::StatusOr<std::vector<std::uint8_t>> some = ReadSomeFromMaster(left, count - bytes.size());
    if (!some.ok()) return some.status();
    if (some->empty() && Clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          StrCat("read only ", bytes.size(), " of ", count, " bytes from the pty master in time"));
    }
    bytes.insert(bytes.end(), some->begin(), some->end());
  }
  return bytes;
}

}  // namespace posd::transport::testing
