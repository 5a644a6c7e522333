// A real posd process on a private temporary folder, for integration tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "tests/support/subprocess.h"

namespace posd::testing {

// Paths of one posd instance's files inside a test folder.
struct PosdPaths {
  explicit PosdPaths(const std::filesystem::path& dir)
      : config(dir / "posd.yaml"), socket(dir / "posd.sock"), database(dir / "posd.db") {}
  std::filesystem::path config;
  std::filesystem::path socket;
  std::filesystem::path database;
  // The gRPC address of the socket, "unix:PATH".
  std::string address() const { return "unix:" + socket.string(); }
};

// Writes a configuration with the instance's socket and database plus
// `extra_yaml` (more top-level keys) and `server_yaml` (more keys under
// `server:`, indented by two spaces) into paths.config. Unless extra_yaml
// has its own `discovery:` section, discovery is off (no beacon listener on
// the default port, no DNS-SD), so parallel tests never collide.
void WritePosdConfig(const PosdPaths& paths, const std::string& extra_yaml = "",
                     const std::string& server_yaml = "");

// Starts `posd_binary --config paths.config` with logs in `log_dir` and waits
// until its socket accepts connections (or the process exits, or `timeout`
// passes; the caller then checks Running()).
Subprocess StartPosd(const std::string& posd_binary, const PosdPaths& paths,
                     const std::filesystem::path& log_dir,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20));

// True when something accepts connections on the Unix socket at `path`.
bool UnixSocketAccepts(const std::filesystem::path& path);

}  // namespace posd::testing
