#include "service/transport/termios_config.h"

#include <termios.h>

#include <array>
#include <cerrno>
#include <utility>

#include "service/transport/posix_error.h"
#include "service/common/strings.h"

namespace posd::transport {
namespace {

struct BaudEntry {
  int baud;
  speed_t speed;
};

constexpr std::array kBaudTable = {
    BaudEntry{50, B50},           BaudEntry{75, B75},           BaudEntry{110, B110},
    BaudEntry{134, B134},         BaudEntry{150, B150},         BaudEntry{200, B200},
    BaudEntry{300, B300},         BaudEntry{600, B600},         BaudEntry{1200, B1200},
    BaudEntry{1800, B1800},       BaudEntry{2400, B2400},       BaudEntry{4800, B4800},
    BaudEntry{9600, B9600},       BaudEntry{19200, B19200},     BaudEntry{38400, B38400},
    BaudEntry{57600, B57600},     BaudEntry{115200, B115200},   BaudEntry{230400, B230400},
    BaudEntry{460800, B460800},   BaudEntry{500000, B500000},   BaudEntry{576000, B576000},
    BaudEntry{921600, B921600},   BaudEntry{1000000, B1000000}, BaudEntry{1152000, B1152000},
    BaudEntry{1500000, B1500000}, BaudEntry{2000000, B2000000}, BaudEntry{2500000, B2500000},
    BaudEntry{3000000, B3000000}, BaudEntry{3500000, B3500000}, BaudEntry{4000000, B4000000},
};

constexpr std::array<int, kBaudTable.size()> MakeRateList() {
  std::array<int, kBaudTable.size()> rates{};
  for (std::size_t i = 0; i < kBaudTable.size(); ++i) rates[i] = kBaudTable[i].baud;
  return rates;
}
constexpr std::array kRates = MakeRateList();

tcflag_t CharacterSize(int data_bits) {
  switch (data_bits) {
    case 5:
      return CS5;
    case 6:
      return CS6;
    case 7:
      return CS7;
    default:
      return CS8;
  }
}

}  // namespace

std::optional<speed_t> BaudToSpeed(int baud) {
  for (const BaudEntry& entry : kBaudTable) {
    if (entry.baud == baud) return entry.speed;
  }
  return std::nullopt;
}

std::span<const int> StandardBaudRates() { return kRates; }

absl::StatusOr<termios> MakeTermios(const termios& base, const SerialSettings& settings) {
  termios t = base;
  cfmakeraw(&t);
  // Modem lines say nothing about a terminal's readiness here (many cables do
  // not wire DCD), and without CLOCAL a dropped carrier would hang up the port.
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~(CSIZE | PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS);
  t.c_cflag |= CharacterSize(settings.data_bits);
  switch (settings.parity) {
    case Parity::kNone:
      break;
    case Parity::kOdd:
      t.c_cflag |= PARENB | PARODD;
      break;
    case Parity::kEven:
      t.c_cflag |= PARENB;
      break;
    case Parity::kMark:
      t.c_cflag |= PARENB | CMSPAR | PARODD;
      break;
    case Parity::kSpace:
      t.c_cflag |= PARENB | CMSPAR;
      break;
  }
  // Bytes with parity errors are passed through unmarked: the link's CRC
  // rejects the frame, which is simpler than parsing PARMRK escapes.
  t.c_iflag &= ~(INPCK | IGNPAR | PARMRK | IXON | IXOFF | IXANY);
  if (settings.stop_bits == StopBits::kTwo) t.c_cflag |= CSTOPB;
  switch (settings.flow_control) {
    case FlowControl::kNone:
      break;
    case FlowControl::kXonXoff:
      t.c_iflag |= IXON | IXOFF;
      break;
    case FlowControl::kRtsCts:
      t.c_cflag |= CRTSCTS;
      break;
    case FlowControl::kDtrDsr:
      return absl::UnimplementedError(
          "flow_control dtrdsr is not supported through termios (Linux has no DTR/DSR "
          "handshake); use rtscts, xonxoff or none");
  }
  // Reads return as soon as one byte is there; the descriptor is non-blocking
  // anyway, so this only matters if someone reads it blocking.
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  std::optional<speed_t> speed = BaudToSpeed(settings.baud);
  if (!speed.has_value()) {
    return absl::InvalidArgumentError(
        StrCat("baud ", settings.baud, " is not a standard termios rate"));
  }
  if (cfsetispeed(&t, *speed) != 0 || cfsetospeed(&t, *speed) != 0) {
    return absl::InvalidArgumentError(StrCat("baud ", settings.baud, " rejected by cfsetspeed"));
  }
  return t;
}

absl::Status ApplyTermios(int fd, const SerialSettings& settings, std::string_view description) {
  termios current{};
  if (tcgetattr(fd, &current) != 0) {
    int error = errno;
    if (error == ENOTTY) {
      return absl::InvalidArgumentError(StrCat(description, " is not a serial port (ENOTTY)"));
    }
    return ErrnoToStatus(error, StrCat("cannot read the settings of ", description));
  }
  absl::StatusOr<termios> wanted = MakeTermios(current, settings);
  if (!wanted.ok()) return wanted.status();
  if (tcsetattr(fd, TCSANOW, &*wanted) != 0) {
    return ErrnoToStatus(errno, StrCat("cannot configure ", description));
  }
  // tcsetattr succeeds when any one change took, so check what matters most.
  // Data bits and parity are not checked: Linux pseudo-terminals have no wire
  // and always report CS8 without parity.
  termios applied{};
  if (tcgetattr(fd, &applied) != 0) {
    return ErrnoToStatus(errno, StrCat("cannot read the settings of ", description));
  }
  if (cfgetospeed(&applied) != cfgetospeed(&*wanted)) {
    return absl::InvalidArgumentError(
        StrCat(description, " does not support baud ", settings.baud));
  }
  // Bytes that arrived before we owned the port belong to nobody.
  if (tcflush(fd, TCIOFLUSH) != 0) {
    return ErrnoToStatus(errno, StrCat("cannot flush ", description));
  }
  return absl::OkStatus();
}

}  // namespace posd::transport
