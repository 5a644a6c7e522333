#include "tests/support/posd_instance.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace posd::testing {

void WritePosdConfig(const PosdPaths& paths, const std::string& extra_yaml,
                     const std::string& server_yaml) {
  std::ofstream config(paths.config);
  config << "server:\n  unix_socket: " << paths.socket.string() << "\n"
         << "  shutdown_grace_ms: 2000\n"
         << server_yaml
         << "storage:\n  database_path: " << paths.database.string() << "\n"
         << extra_yaml;
  // Parallel tests must not fight over posd's default beacon port (nor hear
  // each other's terminals): no beacon listener unless a test asks for one.
  if (extra_yaml.find("discovery:") == std::string::npos) {
    config << "discovery:\n  beacon_listen: \"\"\n  dns_sd: false\n";
  }
}

bool UnixSocketAccepts(const std::filesystem::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  const bool accepted =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return accepted;
}

Subprocess StartPosd(const std::string& posd_binary, const PosdPaths& paths,
                     const std::filesystem::path& log_dir, std::chrono::milliseconds timeout) {
  Subprocess posd = Subprocess::Start({posd_binary, "--config", paths.config.string()}, log_dir);
  WaitUntil([&] { return !posd.Running() || UnixSocketAccepts(paths.socket); }, timeout);
  return posd;
}

}  // namespace posd::testing
