#include "service/termsim/pty_line.h"

#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "service/common/strings.h"
#include "service/transport/fd_stream.h"

namespace posd::termsim {
namespace {

class DupDevice final : public transport::OpenDevice {
 public:
  explicit DupDevice(int fd) : fd_(fd) {}
  ~DupDevice() override { ::close(fd_); }
  int fd() const override { return fd_; }

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PtyLine>> PtyLine::Create(std::string link) {
  int master = -1, slave = -1;
  char name[256] = {};
  if (::openpty(&master, &slave, name, nullptr, nullptr) != 0) {
    return absl::UnavailableError(StrCat("openpty: ", std::strerror(errno)));
  }
  termios tio{};
  ::tcgetattr(slave, &tio);
  ::cfmakeraw(&tio);
  ::tcsetattr(slave, TCSANOW, &tio);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
  std::unique_ptr<PtyLine> line(new PtyLine(master, slave, name, link));
  if (!link.empty()) {
    // Replace atomically: a reader never sees the name missing.
    const std::string tmp = StrCat(link, ".tmp", ::getpid());
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    std::filesystem::create_symlink(name, tmp, ec);
    if (!ec) std::filesystem::rename(tmp, link, ec);
    if (ec) {
      line->link_.clear();
      return absl::PermissionDeniedError(StrCat("cannot create link ", link, ": ", ec.message()));
    }
  }
  return line;
}

PtyLine::PtyLine(int master, int slave, std::string slave_path, std::string link)
    : master_(master), slave_(slave), slave_path_(std::move(slave_path)), link_(std::move(link)) {}

void PtyLine::RemoveLink() {
  if (link_.empty()) return;
  std::error_code ec;
  if (std::filesystem::read_symlink(link_, ec) == slave_path_) std::filesystem::remove(link_, ec);
}

PtyLine::~PtyLine() {
  RemoveLink();
  ::close(master_);
  ::close(slave_);
}

absl::StatusOr<std::unique_ptr<transport::ByteStream>> PtyLine::OpenMaster(
    boost::asio::io_context& io) {
  int fd = ::fcntl(master_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(StrCat("dup pty master: ", std::strerror(errno)));
  auto stream = transport::FdStream::Create(io, StrCat("pty ", slave_path_),
                                            std::make_unique<DupDevice>(fd));
  if (!stream.ok()) return stream.status();
  return std::unique_ptr<transport::ByteStream>(*std::move(stream));
}

}  // namespace posd::termsim
