// Serial settings expressed as termios: used for pseudo-terminals, which
// libserialport refuses (they reject its modem-line ioctls), and as the table
// of baud rates Linux knows. Internal to posd_transport.
#pragma once

#include <termios.h>

#include <optional>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/transport/serial_settings.h"

namespace posd::transport {

// The termios speed constant for `baud`, or nullopt when termios has none.
std::optional<speed_t> BaudToSpeed(int baud);

// Every baud rate BaudToSpeed accepts, ascending.
std::span<const int> StandardBaudRates();

// `base` turned into a raw 8-bit-clean line with `settings` applied: no echo,
// no line editing, no character translation, modem lines ignored (CLOCAL).
// Pure; `settings` must be valid. UNIMPLEMENTED for DTR/DSR flow control,
// which Linux termios cannot express.
absl::StatusOr<termios> MakeTermios(const termios& base, const SerialSettings& settings);

// Applies `settings` to the open tty `fd` (tcsetattr), discards stale input
// and output, and checks that the baud rate took. `description` names the
// port in errors.
absl::Status ApplyTermios(int fd, const SerialSettings& settings, std::string_view description);

}  // namespace posd::transport
