#include "service/config/config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "service/common/strings.h"
#include "service/common/status_macros.h"
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
    return absl::InvalidArgumentError(StrCat(source_name, ": ", status.message()));
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
