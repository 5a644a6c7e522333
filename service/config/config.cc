#include "service/config/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "absl/strings/numbers.h"
#include "service/common/strings.h"
#include "service/common/status_macros.h"
#include "service/config/bundles_config.h"
#include "service/config/http_config.h"
#include "service/config/log_level.h"
#include "service/config/yaml_to_proto.h"

namespace posd::config {
namespace {

constexpr uint32_t kDefaultShutdownGraceMs = 5000;
constexpr uint32_t kMaxShutdownGraceMs = 60000;
constexpr std::size_t kMinTokenLength = 32;

absl::Status KeyError(std::string_view key, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(key, ": ", problem));
}

absl::Status ValidateTcp(const v1::Tcp& tcp) {
  if (tcp.address().empty()) return KeyError("server.tcp.address", "is required (HOST:PORT)");
  const auto colon = tcp.address().rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == tcp.address().size()) {
    return KeyError("server.tcp.address",
                    StrCat("'", tcp.address(), "' is not HOST:PORT"));
  }
  if (tcp.tls_certificate_file().empty()) {
    return KeyError("server.tcp.tls_certificate_file", "is required: TCP is served over TLS only");
  }
  if (tcp.tls_private_key_file().empty()) {
    return KeyError("server.tcp.tls_private_key_file", "is required: TCP is served over TLS only");
  }
  if (tcp.tokens().empty()) {
    return KeyError("server.tcp.tokens", "at least one bearer token is required on TCP");
  }
  for (int i = 0; i < tcp.tokens_size(); ++i) {
    const std::string key = StrCat("server.tcp.tokens[", i, "]");
    if (tcp.tokens(i).token_file().empty()) {
      return KeyError(StrCat(key, ".token_file"), "is required");
    }
    if (tcp.tokens(i).role() == v1::ROLE_UNSPECIFIED) {
      return KeyError(StrCat(key, ".role"), "is required (ui, operator or fleet)");
    }
  }
  return absl::OkStatus();
}

bool IsDeviceIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// The standard termios rates (as transport::IsStandardBaudRate; kept here so
// the configuration does not depend on the serial layer).
bool IsStandardBaud(uint32_t baud) {
  static constexpr uint32_t kRates[] = {50,     75,     110,    134,     150,     200,    300,
                                        600,    1200,   1800,   2400,    4800,    9600,   19200,
                                        38400,  57600,  115200, 230400,  460800,  500000, 576000,
                                        921600, 1000000, 1152000, 1500000, 2000000, 2500000,
                                        3000000, 3500000, 4000000};
  for (uint32_t rate : kRates) {
    if (rate == baud) return true;
  }
  return false;
}

absl::Status ValidateWebSocketLine(Config& config, int i) {
  const std::string key = StrCat("devices[", i, "].websocket");
  v1::WebSocketLine& line = *config.mutable_devices(i)->mutable_websocket();
  const std::string& address = line.address();
  const size_t colon = address.rfind(':');
  uint32_t port = 0;
  // No address: the device follows discovery alone.
  if (!address.empty() &&
      (colon == std::string::npos || colon == 0 ||
       !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) || port == 0 ||
       port > 65535 || (address.front() != '[' && address.find(':') != colon) ||
       (address.front() == '[' && address[colon - 1] != ']'))) {
    return KeyError(StrCat(key, ".address"),
                    StrCat("'", address, "' is not HOST:PORT (e.g. 192.168.1.20:8080, [::1]:8080)"));
  }
  if (!line.has_path()) line.set_path("/");
  if (line.path().empty() || line.path().front() != '/' ||
      line.path().find_first_of(" \t\r\n") != std::string::npos) {
    return KeyError(StrCat(key, ".path"), StrCat("'", line.path(), "' must start with '/'"));
  }
  if (!line.has_terminal_id()) line.set_terminal_id(config.devices(i).id());
  const std::string& terminal = line.terminal_id();
  if (terminal.empty() || terminal.size() > 63 || terminal.front() < 'a' ||
      terminal.front() > 'z' || !std::all_of(terminal.begin(), terminal.end(), IsDeviceIdChar)) {
    return KeyError(StrCat(key, ".terminal_id"),
                    StrCat("'", terminal, "' must be 1 to 63 lower-case letters, digits and '-'"));
  }
  for (int j = 0; j < i; ++j) {
    if (!address.empty() && config.devices(j).has_websocket() &&
        config.devices(j).websocket().address() == address) {
      return KeyError(StrCat(key, ".address"), StrCat("'", address, "' is already used by device ",
                                                      config.devices(j).id()));
    }
  }
  if (!line.has_tls()) line.set_tls(false);
  return absl::OkStatus();
}

absl::Status ValidateWebSocketSettings(Config& config) {
  v1::WebSocketSettings& ws = *config.mutable_websocket();
  if (!ws.has_ping_interval_ms()) ws.set_ping_interval_ms(1000);
  if (!ws.has_dead_peer_timeout_ms()) ws.set_dead_peer_timeout_ms(3000);
  if (ws.dead_peer_timeout_ms() < 500 || ws.dead_peer_timeout_ms() > 60000) {
    return KeyError("websocket.dead_peer_timeout_ms",
                    StrCat(ws.dead_peer_timeout_ms(), " is not 500 to 60000"));
  }
  if (ws.ping_interval_ms() == 0 || ws.ping_interval_ms() >= ws.dead_peer_timeout_ms()) {
    return KeyError("websocket.ping_interval_ms",
                    StrCat(ws.ping_interval_ms(),
                           " must be positive and less than dead_peer_timeout_ms"));
  }
  return absl::OkStatus();
}

// "IP:PORT" with an IPv4 or bracketed IPv6 address and a port 1 to 65535.
bool IsIpAndPort(const std::string& text) {
  const size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(text).substr(colon + 1), &port) || port == 0 ||
      port > 65535) {
    return false;
  }
  std::string host = text.substr(0, colon);
  unsigned char buffer[sizeof(in6_addr)];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), buffer) == 1;
  }
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1;
}

absl::Status ValidateDiscovery(v1::Discovery& discovery) {
  if (!discovery.has_dns_sd()) discovery.set_dns_sd(true);
  if (!discovery.has_beacon_listen()) {
    discovery.set_beacon_listen(StrCat("0.0.0.0:", kDefaultBeaconPort));
  }
  if (!discovery.beacon_listen().empty() && !IsIpAndPort(discovery.beacon_listen())) {
    return KeyError("discovery.beacon_listen",
                    StrCat("'", discovery.beacon_listen(),
                           "' is not IP:PORT (e.g. 0.0.0.0:47800, [::]:47800), nor \"\" (off)"));
  }
  if (!discovery.has_beacon_expiry_intervals()) discovery.set_beacon_expiry_intervals(3);
  if (discovery.beacon_expiry_intervals() < 1 || discovery.beacon_expiry_intervals() > 100) {
    return KeyError("discovery.beacon_expiry_intervals",
                    StrCat(discovery.beacon_expiry_intervals(), " is not 1 to 100"));
  }
  if (!discovery.has_auto_add()) discovery.set_auto_add(false);
  return absl::OkStatus();
}

absl::Status ValidateDevices(Config& config) {
  for (int i = 0; i < config.devices_size(); ++i) {
    v1::Device& device = *config.mutable_devices(i);
    const std::string key = StrCat("devices[", i, "]");
    const std::string& id = device.id();
    if (id.empty()) return KeyError(StrCat(key, ".id"), "is required");
    if (id.size() > 63 || id.front() < 'a' || id.front() > 'z' ||
        !std::all_of(id.begin(), id.end(), IsDeviceIdChar)) {
      return KeyError(StrCat(key, ".id"),
                      StrCat("'", id,
                             "' must be 1 to 63 lower-case letters, digits and '-', starting "
                             "with a letter"));
    }
    for (int j = 0; j < i; ++j) {
      if (config.devices(j).id() == id) {
        return KeyError(StrCat(key, ".id"), StrCat("'", id, "' is listed twice"));
      }
    }
    if (device.has_serial() && device.has_websocket()) {
      return KeyError(key, "give serial or websocket, not both");
    }
    if (device.has_websocket()) {
      POSD_RETURN_IF_ERROR(ValidateWebSocketLine(config, i));
      continue;
    }
    if (!device.has_serial() || device.serial().port().empty()) {
      return KeyError(StrCat(key, ".serial.port"), "is required");
    }
    v1::SerialLine& serial = *device.mutable_serial();
    for (int j = 0; j < i; ++j) {
      if (config.devices(j).has_serial() && config.devices(j).serial().port() == serial.port()) {
        return KeyError(StrCat(key, ".serial.port"),
                        StrCat("'", serial.port(), "' is already used by device ",
                               config.devices(j).id()));
      }
    }
    if (!serial.has_baud()) serial.set_baud(115200);
    if (!IsStandardBaud(serial.baud())) {
      return KeyError(StrCat(key, ".serial.baud"),
                      StrCat(serial.baud(), " is not a standard rate (e.g. 9600, 115200)"));
    }
    if (!serial.has_data_bits()) serial.set_data_bits(8);
    if (serial.data_bits() < 5 || serial.data_bits() > 8) {
      return KeyError(StrCat(key, ".serial.data_bits"),
                      StrCat(serial.data_bits(), " is not 5, 6, 7 or 8"));
    }
    if (!serial.has_parity()) serial.set_parity("none");
    if (serial.parity() != "none" && serial.parity() != "odd" && serial.parity() != "even" &&
        serial.parity() != "mark" && serial.parity() != "space") {
      return KeyError(StrCat(key, ".serial.parity"),
                      StrCat("'", serial.parity(), "' is not none, odd, even, mark or space"));
    }
    if (!serial.has_stop_bits()) serial.set_stop_bits("1");
    if (serial.stop_bits() != "1" && serial.stop_bits() != "2") {
      return KeyError(StrCat(key, ".serial.stop_bits"),
                      StrCat("'", serial.stop_bits(), "' is not 1 or 2"));
    }
    if (!serial.has_flow_control()) serial.set_flow_control("none");
    if (serial.flow_control() != "none" && serial.flow_control() != "rtscts" &&
        serial.flow_control() != "dtrdsr" && serial.flow_control() != "xonxoff") {
      return KeyError(StrCat(key, ".serial.flow_control"),
                      StrCat("'", serial.flow_control(),
                             "' is not none, rtscts, dtrdsr or xonxoff"));
    }
  }
  return absl::OkStatus();
}

// Default and bounds of each key under `terminals:`; the defaults are the
// protocol's (docs/protocol.md, "Timeouts"), so a config without the section
// behaves exactly as posd always did.
struct TerminalTimerRule {
  std::string_view key;
  uint32_t default_value;
  uint32_t min;
  uint32_t max;
};
constexpr TerminalTimerRule kTerminalTimerRules[] = {
    {"heartbeat_interval_ms", 2000, 100, 60000},
    {"heartbeat_max_missed", 3, 1, 100},
    {"accept_timeout_ms", 5000, 100, 60000},
    {"transaction_timeout_ms", 120000, 1000, 900000},
    {"status_query_timeout_ms", 5000, 100, 60000},
    {"status_query_retry_ms", 10000, 100, 300000},
    {"handshake_timeout_ms", 5000, 100, 60000},
    {"handshake_retry_initial_ms", 1000, 100, 300000},
    {"handshake_retry_max_ms", 30000, 100, 300000},
    {"port_reopen_max_ms", 5000, 200, 300000},
};

absl::Status ValidateTerminals(v1::Terminals& terminals) {
  const google::protobuf::Reflection& reflection = *terminals.GetReflection();
  for (const TerminalTimerRule& rule : kTerminalTimerRules) {
    const google::protobuf::FieldDescriptor* field =
        terminals.GetDescriptor()->FindFieldByName(std::string(rule.key));
    const std::string key = StrCat("terminals.", rule.key);
    if (field == nullptr) return absl::InternalError(StrCat(key, ": not in the schema"));
    if (!reflection.HasField(terminals, field)) {
      reflection.SetUInt32(&terminals, field, rule.default_value);
    }
    const uint32_t value = reflection.GetUInt32(terminals, field);
    if (value < rule.min || value > rule.max) {
      return KeyError(key, StrCat(value, " is outside ", rule.min, " to ", rule.max,
                                  " (default ", rule.default_value, ")"));
    }
  }
  if (terminals.handshake_retry_max_ms() < terminals.handshake_retry_initial_ms()) {
    return KeyError("terminals.handshake_retry_max_ms",
                    StrCat(terminals.handshake_retry_max_ms(),
                           " is below terminals.handshake_retry_initial_ms (",
                           terminals.handshake_retry_initial_ms(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<unsigned> ParseSocketMode(std::string_view text) {
  if (text.empty() || text.size() > 4) {
    return absl::InvalidArgumentError(StrCat("'", text, "' is not an octal mode like 0660"));
  }
  unsigned mode = 0;
  for (const char c : text) {
    if (c < '0' || c > '7') {
      return absl::InvalidArgumentError(StrCat("'", text, "' is not an octal mode like 0660"));
    }
    mode = mode * 8 + static_cast<unsigned>(c - '0');
  }
  if ((mode & 0007) != 0) {
    return absl::InvalidArgumentError(
        StrCat("'", text, "' lets every local user reach the API; use 0660 or stricter"));
  }
  if ((mode & 0600) != 0600) {
    return absl::InvalidArgumentError(
        StrCat("'", text, "' must give the owner read and write (0600 at least)"));
  }
  return mode;
}

// Sets `*value` to `fallback` when absent; KeyError when outside [min, max].
template <typename Get, typename Set, typename Has>
absl::Status Bounded(std::string_view key, Has has, Get get, Set set, uint32_t fallback,
                     uint32_t min, uint32_t max) {
  if (!has()) set(fallback);
  if (get() < min || get() > max) {
    return KeyError(key, StrCat(get(), " is outside ", min, " to ", max));
  }
  return absl::OkStatus();
}

absl::Status ValidateHooks(v1::Hooks& hooks) {
  POSD_RETURN_IF_ERROR(Bounded(
      "hooks.before_hook_time_limit_ms", [&] { return hooks.has_before_hook_time_limit_ms(); },
      [&] { return hooks.before_hook_time_limit_ms(); },
      [&](uint32_t v) { hooks.set_before_hook_time_limit_ms(v); }, 2000, 1, 60000));
  POSD_RETURN_IF_ERROR(Bounded(
      "hooks.after_hook_max_attempts", [&] { return hooks.has_after_hook_max_attempts(); },
      [&] { return hooks.after_hook_max_attempts(); },
      [&](uint32_t v) { hooks.set_after_hook_max_attempts(v); }, 10, 1, 1000));
  POSD_RETURN_IF_ERROR(Bounded(
      "hooks.after_hook_initial_backoff_ms",
      [&] { return hooks.has_after_hook_initial_backoff_ms(); },
      [&] { return hooks.after_hook_initial_backoff_ms(); },
      [&](uint32_t v) { hooks.set_after_hook_initial_backoff_ms(v); }, 1000, 1, 3'600'000));
  return Bounded(
      "hooks.after_hook_max_backoff_ms", [&] { return hooks.has_after_hook_max_backoff_ms(); },
      [&] { return hooks.after_hook_max_backoff_ms(); },
      [&](uint32_t v) { hooks.set_after_hook_max_backoff_ms(v); },
      std::max<uint32_t>(600'000, hooks.after_hook_initial_backoff_ms()),
      hooks.after_hook_initial_backoff_ms(), 86'400'000);
}

absl::Status ValidateAndApplyDefaults(Config& config) {
  v1::Server& server = *config.mutable_server();
  if (!server.has_unix_socket()) server.set_unix_socket(std::string(kDefaultUnixSocket));
  if (server.unix_socket().empty()) return KeyError("server.unix_socket", "must not be empty");
  // sockaddr_un holds 108 bytes including the terminating NUL.
  if (server.unix_socket().size() > 107) {
    return KeyError("server.unix_socket", "is longer than the 107 bytes a Unix socket path may have");
  }
  if (!server.has_unix_socket_mode()) server.set_unix_socket_mode("0660");
  if (auto mode = ParseSocketMode(server.unix_socket_mode()); !mode.ok()) {
    return KeyError("server.unix_socket_mode", ToStd(mode.status().message()));
  }
  if (!server.has_shutdown_grace_ms()) server.set_shutdown_grace_ms(kDefaultShutdownGraceMs);
  if (server.shutdown_grace_ms() > kMaxShutdownGraceMs) {
    return KeyError("server.shutdown_grace_ms",
                    StrCat(server.shutdown_grace_ms(), " is above the limit of ",
                                 kMaxShutdownGraceMs));
  }
  if (server.has_tcp()) POSD_RETURN_IF_ERROR(ValidateTcp(server.tcp()));

  v1::Storage& storage = *config.mutable_storage();
  if (!storage.has_database_path()) storage.set_database_path(std::string(kDefaultDatabasePath));
  if (storage.database_path().empty()) return KeyError("storage.database_path", "must not be empty");

  for (int i = 0; i < config.plugins_size(); ++i) {
    const std::string key = StrCat("plugins[", i, "].name");
    if (config.plugins(i).name().empty()) return KeyError(key, "is required");
    for (int j = 0; j < i; ++j) {
      if (config.plugins(j).name() == config.plugins(i).name()) {
        return KeyError(key, StrCat("'", config.plugins(i).name(), "' is listed twice"));
      }
    }
  }

  POSD_RETURN_IF_ERROR(ValidateDevices(config));
  POSD_RETURN_IF_ERROR(ValidateTerminals(*config.mutable_terminals()));
  POSD_RETURN_IF_ERROR(ValidateHooks(*config.mutable_hooks()));
  POSD_RETURN_IF_ERROR(ValidateWebSocketSettings(config));
  POSD_RETURN_IF_ERROR(ValidateDiscovery(*config.mutable_discovery()));
  POSD_RETURN_IF_ERROR(ValidateBundles(*config.mutable_bundles()));
  POSD_RETURN_IF_ERROR(ValidateHttp(config));

  v1::Logging& logging = *config.mutable_logging();
  if (!logging.has_level()) logging.set_level("info");
  if (auto level = ParseLogLevel(logging.level()); !level.ok()) {
    return KeyError("logging.level", ToStd(level.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view source_name) {
  Config config;
  POSD_RETURN_IF_ERROR(ParseYamlIntoMessage(text, source_name, config));
  if (absl::Status status = ValidateAndApplyDefaults(config); !status.ok()) {
    // "KEY.PATH: problem": add the line the key is on, as the parser does,
    // so the operator is pointed at it (a key left to its default has none).
    const std::string message(ToStd(status.message()));
    const std::optional<int> line = FindKeyLine(text, message.substr(0, message.find(": ")));
    return absl::InvalidArgumentError(
        StrCat(source_name, line ? StrCat(":", *line) : std::string(), ": ", message));
  }
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    const int error = errno;
    const std::string reason = std::strerror(error);
    if (error == ENOENT) {
      return absl::NotFoundError(StrCat("configuration file ", path, " does not exist"));
    }
    return absl::PermissionDeniedError(
        StrCat("cannot read configuration file ", path, ": ", reason));
  }
  std::ostringstream text;
  text << file.rdbuf();
  return ParseConfig(text.str(), path);
}

}  // namespace posd::config
