#include "service/transport/serial_port.h"

#include <fcntl.h>
#include <libserialport.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "service/common/status_macros.h"
#include "service/transport/device_probe.h"
#include "service/transport/fd_stream.h"
#include "service/transport/posix_error.h"
#include "service/common/strings.h"
#include "service/transport/termios_config.h"
#include "service/transport/unique_fd.h"

namespace posd::transport {
namespace {

absl::Status OpenError(int error, const std::string& path) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(StrCat("serial port ", path, " does not exist"));
    case ENXIO:
    case ENODEV:
      return absl::NotFoundError(
          StrCat("serial port ", path,
                 " does not exist (no device behind the node: ", ErrnoName(error), ")"));
    case EACCES:
    case EPERM:
      return NoPermissionError(path);
    case EBUSY:
      return absl::FailedPreconditionError(
          StrCat("serial port ", path, " is in use (opened exclusively by another program)"));
    case ENOTTY:
      return absl::InvalidArgumentError(StrCat(path, " is not a serial port (ENOTTY)"));
    default:
      return ErrnoToStatus(error, StrCat("cannot open serial port ", path));
  }
}

// An advisory lock held on its own descriptor for the life of the port. It
// is taken before anything is configured, so a refused second opener never
// disturbs the line the first one is using.
absl::StatusOr<UniqueFd> LockDevice(const std::string& path) {
  UniqueFd lock(::open(path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!lock.valid()) return OpenError(errno, path);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          StrCat("serial port ", path, " is in use (locked by another opener)"));
    }
    return ErrnoToStatus(error, StrCat("cannot lock serial port ", path));
  }
  return lock;
}

// Best effort: TIOCEXCL makes further open(2)s by unprivileged programs fail
// with EBUSY, which also covers programs that do not flock. Root bypasses it.
void SetExclusive(int fd) { (void)::ioctl(fd, TIOCEXCL); }
// The flag lives on the tty, not on our descriptor, and would outlive our
// close while anyone else keeps the tty open.
void ClearExclusive(int fd) { (void)::ioctl(fd, TIOCNXCL); }

absl::Status SetNonBlocking(int fd, const std::string& path) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoToStatus(errno, StrCat("cannot make serial port ", path, " non-blocking"));
  }
  return absl::OkStatus();
}

// ----- Pseudo-terminals: open(2) + termios -----

class PseudoTerminalDevice final : public OpenDevice {
 public:
  PseudoTerminalDevice(UniqueFd lock, UniqueFd io) : lock_(std::move(lock)), io_(std::move(io)) {}
  ~PseudoTerminalDevice() override { ClearExclusive(io_.get()); }
  int fd() const override { return io_.get(); }

 private:
  UniqueFd lock_;  // Destroyed after io_ (reverse order): the lock outlives I/O.
  UniqueFd io_;
};

absl::StatusOr<std::unique_ptr<OpenDevice>> OpenPseudoTerminal(const SerialSettings& settings,
                                                               std::string_view description) {
  const std::string& path = settings.port;
  POSD_ASSIGN_OR_RETURN(UniqueFd lock, LockDevice(path));
  UniqueFd io(::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!io.valid()) return OpenError(errno, path);
  if (!::isatty(io.get())) {
    return absl::InvalidArgumentError(StrCat(path, " is not a serial port (not a tty)"));
  }
  POSD_RETURN_IF_ERROR(ApplyTermios(io.get(), settings, description));
  SetExclusive(io.get());
  return std::make_unique<PseudoTerminalDevice>(std::move(lock), std::move(io));
}

// ----- Real ports: libserialport -----

std::string LastLibserialportError() {
  char* message = sp_last_error_message();
  std::string text = message != nullptr ? message : "unknown error";
  sp_free_error_message(message);
  return text;
}

// Turns a failed sp_* call into a status. SP_ERR_FAIL carries an errno.
absl::Status LibserialportError(sp_return result, std::string_view what) {
  switch (result) {
    case SP_ERR_ARG:
      return absl::InvalidArgumentError(StrCat(what, ": ", LastLibserialportError()));
    case SP_ERR_SUPP:
      return absl::UnimplementedError(StrCat(what, ": ", LastLibserialportError()));
    case SP_ERR_MEM:
      return absl::ResourceExhaustedError(StrCat(what, ": out of memory"));
    case SP_ERR_FAIL:
      return ErrnoToStatus(sp_last_error_code(), what);
    case SP_OK:
      break;
  }
  return absl::OkStatus();
}

struct SpPortDeleter {
  void operator()(sp_port* port) const { sp_free_port(port); }
};
struct SpConfigDeleter {
  void operator()(sp_port_config* config) const { sp_free_config(config); }
};
using SpPortPtr = std::unique_ptr<sp_port, SpPortDeleter>;
using SpConfigPtr = std::unique_ptr<sp_port_config, SpConfigDeleter>;

class LibserialportDevice final : public OpenDevice {
 public:
  LibserialportDevice(UniqueFd lock, SpPortPtr port, int fd)
      : lock_(std::move(lock)), port_(std::move(port)), fd_(fd) {}
  // libserialport owns the descriptor; sp_close() is the one close(2).
  ~LibserialportDevice() override {
    ClearExclusive(fd_);
    sp_close(port_.get());
  }
  int fd() const override { return fd_; }
  sp_port* port() const { return port_.get(); }

 private:
  UniqueFd lock_;
  SpPortPtr port_;
  int fd_;
};

sp_parity ToLibserialport(Parity parity) {
  switch (parity) {
    case Parity::kNone:
      return SP_PARITY_NONE;
    case Parity::kOdd:
      return SP_PARITY_ODD;
    case Parity::kEven:
      return SP_PARITY_EVEN;
    case Parity::kMark:
      return SP_PARITY_MARK;
    case Parity::kSpace:
      return SP_PARITY_SPACE;
  }
  return SP_PARITY_INVALID;
}

sp_flowcontrol ToLibserialport(FlowControl flow_control) {
  switch (flow_control) {
    case FlowControl::kNone:
      return SP_FLOWCONTROL_NONE;
    case FlowControl::kXonXoff:
      return SP_FLOWCONTROL_XONXOFF;
    case FlowControl::kRtsCts:
      return SP_FLOWCONTROL_RTSCTS;
    case FlowControl::kDtrDsr:
      return SP_FLOWCONTROL_DTRDSR;
  }
  return SP_FLOWCONTROL_NONE;
}

absl::Status Configure(sp_port* port, const SerialSettings& settings,
                       std::string_view description) {
  sp_port_config* raw_config = nullptr;
  if (sp_return result = sp_new_config(&raw_config); result != SP_OK) {
    return LibserialportError(result, "cannot allocate a serial configuration");
  }
  SpConfigPtr config(raw_config);
  // sp_new_config leaves every field "unchanged"; set the ones posd owns.
  sp_set_config_baudrate(config.get(), settings.baud);
  sp_set_config_bits(config.get(), settings.data_bits);
  sp_set_config_parity(config.get(), ToLibserialport(settings.parity));
  sp_set_config_stopbits(config.get(), settings.stop_bits == StopBits::kTwo ? 2 : 1);
  sp_set_config_flowcontrol(config.get(), ToLibserialport(settings.flow_control));
  if (sp_return result = sp_set_config(port, config.get()); result != SP_OK) {
    return LibserialportError(result, StrCat("cannot configure ", description));
  }
  // Bytes that arrived before we owned the port belong to nobody.
  if (sp_return result = sp_flush(port, SP_BUF_BOTH); result != SP_OK) {
    return LibserialportError(result, StrCat("cannot flush ", description));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OpenDevice>> OpenWithLibserialport(const SerialSettings& settings,
                                                                  std::string_view description) {
  const std::string& path = settings.port;
  sp_port* raw_port = nullptr;
  // Looks the port up in sysfs without opening it, so /dev/null and friends
  // are turned away before anything touches them.
  if (sp_get_port_by_name(path.c_str(), &raw_port) != SP_OK) {
    return absl::InvalidArgumentError(
        StrCat(path, " is not a serial port (libserialport: ", LastLibserialportError(), ")"));
  }
  SpPortPtr port(raw_port);
  POSD_ASSIGN_OR_RETURN(UniqueFd lock, LockDevice(path));
  if (sp_return result = sp_open(port.get(), SP_MODE_READ_WRITE); result != SP_OK) {
    if (result == SP_ERR_FAIL) return OpenError(sp_last_error_code(), path);
    return LibserialportError(result, StrCat("cannot open ", description));
  }
  int fd = -1;
  if (sp_return result = sp_get_port_handle(port.get(), &fd); result != SP_OK || fd < 0) {
    sp_close(port.get());
    return absl::InternalError(StrCat("libserialport gave no descriptor for ", path));
  }
  // From here the device object closes the port on every path.
  auto device = std::make_unique<LibserialportDevice>(std::move(lock), std::move(port), fd);
  SetExclusive(fd);
  POSD_RETURN_IF_ERROR(SetNonBlocking(fd, path));
  POSD_RETURN_IF_ERROR(Configure(device->port(), settings, description));
  return device;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SerialPort>> SerialPort::Open(boost::asio::io_context& io,
                                                             const SerialSettings& settings) {
  POSD_RETURN_IF_ERROR(settings.Validate());
  POSD_ASSIGN_OR_RETURN(DeviceKind kind, ProbeDevice(settings.port));
  const std::string description = StrCat("serial port ", settings.port);
  const bool is_pty = kind == DeviceKind::kPseudoTerminal;
  std::unique_ptr<OpenDevice> device;
  if (is_pty) {
    POSD_ASSIGN_OR_RETURN(device, OpenPseudoTerminal(settings, description));
  } else {
    POSD_ASSIGN_OR_RETURN(device, OpenWithLibserialport(settings, description));
  }
  POSD_ASSIGN_OR_RETURN(std::unique_ptr<FdStream> stream,
                        FdStream::Create(io, description, std::move(device)));
  return std::unique_ptr<SerialPort>(new SerialPort(settings, is_pty, std::move(stream)));
}

SerialPort::SerialPort(SerialSettings settings, bool is_pseudo_terminal,
                       std::unique_ptr<FdStream> stream)
    : settings_(std::move(settings)),
      is_pseudo_terminal_(is_pseudo_terminal),
      stream_(std::move(stream)) {}

SerialPort::~SerialPort() = default;  // ~FdStream closes.

void SerialPort::Start(ByteStreamHandlers handlers) { stream_->Start(std::move(handlers)); }
absl::Status SerialPort::Write(std::vector<std::uint8_t> bytes, WriteCallback done) {
  return stream_->Write(std::move(bytes), std::move(done));
}
void SerialPort::Close() { stream_->Close(); }
bool SerialPort::is_open() const { return stream_->is_open(); }
std::size_t SerialPort::queued_bytes() const { return stream_->queued_bytes(); }
std::string_view SerialPort::description() const { return stream_->description(); }

}  // namespace posd::transport
