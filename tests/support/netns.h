// Private networks for discovery tests: network namespaces the test creates
// itself, veth pairs between them, and a private D-Bus + avahi-daemon inside
// one. Multicast and broadcast never leave a namespace made here: nothing is
// ever attached to the machine's real interfaces, and the avahi-daemon of a
// namespace is restricted to that namespace's interfaces.
//
// Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN), `ip`, `dbus-daemon` and
// `avahi-daemon`; NetworkTestsUnavailable() says why not, for GTEST_SKIP.
// Every object removes what it made when destroyed (processes killed by
// PID, then the namespace deleted, which also deletes its veth ends).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"

namespace posd::testing {

// Empty when namespaces, veth and a private avahi-daemon can be made here;
// otherwise why not (not root, a tool missing).
std::string NetworkTestsUnavailable();

class NetNamespace {
 public:
  // A new namespace named "posd-<tag>-<pid>-<n>" whose loopback is up with
  // multicast enabled.
  static absl::StatusOr<std::unique_ptr<NetNamespace>> Create(std::string_view tag);
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  const std::string& name() const { return name_; }

  // Runs `ip ARGS...` inside the namespace ("addr", "add", "10.0.0.2/24",
  // "dev", "veth0"); the error carries ip's message.
  absl::Status Ip(const std::vector<std::string>& args) const;
  // The argv that runs `argv` inside the namespace (for Subprocess::Start).
  std::vector<std::string> Wrap(const std::vector<std::string>& argv) const;

 private:
  explicit NetNamespace(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// Links two namespaces with a veth pair: `a_device` in `a` with `a_cidr`
// ("10.77.0.1/24"), `b_device` in `b` with `b_cidr`, both up with multicast.
absl::Status ConnectWithVeth(const NetNamespace& a, std::string_view a_device,
                             std::string_view a_cidr, const NetNamespace& b,
                             std::string_view b_device, std::string_view b_cidr);

// A system D-Bus and an avahi-daemon of their own for one namespace, their
// files under `dir`. avahi-daemon runs inside the namespace with a private
// /run, listens only on `interfaces` and publishes no workstation record.
// Clients reach it with the environment entry env() (DBUS_SYSTEM_BUS_ADDRESS).
//
// libdbus reads DBUS_SYSTEM_BUS_ADDRESS once per process: a test process
// whose own Avahi clients use several PrivateAvahi in turn gives them all the
// same `bus_socket` (one at a time), so the address it read stays right.
class PrivateAvahi {
 public:
  // Waits (up to 15 s) until avahi-daemon reports its startup complete. The
  // bus listens on `bus_socket`, or on dir/dbus.sock when it is empty.
  static absl::StatusOr<std::unique_ptr<PrivateAvahi>> Start(
      const NetNamespace& ns, const std::filesystem::path& dir,
      const std::vector<std::string>& interfaces, std::string_view host_name,
      const std::filesystem::path& bus_socket = {});
  ~PrivateAvahi();
  PrivateAvahi(const PrivateAvahi&) = delete;
  PrivateAvahi& operator=(const PrivateAvahi&) = delete;

  // "DBUS_SYSTEM_BUS_ADDRESS=unix:path=..." for processes that use Avahi.
  std::string env() const { return "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address_; }
  const std::string& bus_address() const { return bus_address_; }

  // Stops avahi-daemon only (the bus stays), as on a network where mDNS is
  // blocked; clients see the daemon vanish.
  void StopDaemon();
  // Starts avahi-daemon again after StopDaemon.
  absl::Status RestartDaemon();
  // What avahi-daemon printed, for failure messages.
  std::string DaemonLog() const;

 private:
  PrivateAvahi(const NetNamespace& ns, std::filesystem::path dir, std::string bus_address)
      : ns_(ns), dir_(std::move(dir)), bus_address_(std::move(bus_address)) {}
  absl::Status StartDaemon();

  const NetNamespace& ns_;
  std::filesystem::path dir_;
  std::string bus_address_;
  std::optional<Subprocess> bus_;
  std::optional<Subprocess> daemon_;
  int daemon_starts_ = 0;
};

}  // namespace posd::testing
