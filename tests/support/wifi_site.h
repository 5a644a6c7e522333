// A shop's Wi-Fi in miniature, for the discovery tests and bench_reconnect:
// a "pos" network namespace running posd and a "terminals" namespace running
// posd-termsim WebSocket terminals, joined by a veth pair on 10.<net>.0.0/24,
// each namespace with its own D-Bus and avahi-daemon (tests/support/netns.h).
// posd's and the simulators' Unix sockets live in the test folder, so the
// test (outside both namespaces) drives them directly.
//
// A terminal "moves" the way a tablet terminal roaming between access points
// does: it gets a new address on the terminals' side of the veth, listens
// there on a new port, announces itself again, and the old address goes.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posd/v1/devices.pb.h"
#include "tests/support/netns.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"

namespace posd::testing {

struct WifiSiteOptions {
  std::string tag = "wifi";  // in the namespaces' names
  // Second octet of the site's network 10.<net>.0.0/24: posd is 10.<net>.0.1.
  int net = 231;
  std::string posd_binary;
  std::string termsim_binary;
  std::string posctl_binary;
};

struct SiteTerminal {
  std::string id;
  std::string address;  // IP it listens on now
  int port = 0;
  std::filesystem::path control;  // its control socket
  std::filesystem::path ledger;
  std::optional<Subprocess> process;
};

class WifiSite {
 public:
  // Namespaces, veth and both avahi-daemons, ready. Files go under `dir`.
  static absl::StatusOr<std::unique_ptr<WifiSite>> Create(const std::filesystem::path& dir,
                                                         WifiSiteOptions options);
  ~WifiSite();

  // "10.<net>.0.<host>".
  std::string Address(int host) const;
  std::string pos_address() const { return Address(1); }

  // Writes posd's configuration (socket and database in the site folder,
  // then `yaml`) and starts posd inside the pos namespace with its Avahi.
  absl::Status StartPosd(const std::string& yaml);
  void StopPosd();
  bool PosdRunning();
  std::string PosdLog();
  const PosdPaths& posd_paths() const { return posd_paths_; }

  // Adds / removes an address on the terminals' side of the veth.
  absl::Status AddTerminalAddress(const std::string& ip);
  absl::Status RemoveTerminalAddress(const std::string& ip);

  // Starts posd-termsim `id` serving WebSocket on `ip` (port 0: any) inside
  // the terminals' namespace, with its ledger, control socket and `extra`
  // flags (e.g. --dns-sd, --beacon IP:PORT). The address must be on the
  // veth already. Keeps the ledger of an earlier run of the same id. Card
  // steps take 20 ms unless `extra` has its own --step-ms.
  absl::StatusOr<SiteTerminal*> StartTerminal(const std::string& id, const std::string& ip,
                                              const std::vector<std::string>& extra,
                                              int port = 0);
  void StopTerminal(const std::string& id, int signal_number);
  SiteTerminal* terminal(const std::string& id);
  // One control command to a terminal ("move 10.231.0.12:0").
  std::string Control(const std::string& id, const std::string& command);
  // Moves a running terminal to `ip` (added to the veth first, port 0: any)
  // through its `move` command; returns the new port.
  absl::StatusOr<int> Move(const std::string& id, const std::string& ip);

  // posd's view of a device, through its gRPC API.
  absl::StatusOr<posd::v1::Device> GetDevice(const std::string& device_id);
  // Polls GetDevice (every `poll`) until `ready_at` holds: the device is
  // READY and its WebSocket's last_address is "ip:port"; empty "ip:port"
  // means any address.
  bool WaitForReady(const std::string& device_id, const std::string& address_port,
                    std::chrono::milliseconds timeout,
                    std::chrono::milliseconds poll = std::chrono::milliseconds(20));

  // posctl against this site's posd: `args` after --address.
  CommandResult Posctl(std::vector<std::string> args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

  NetNamespace& pos_ns() { return *pos_ns_; }
  NetNamespace& terminal_ns() { return *terminal_ns_; }
  PrivateAvahi& pos_avahi() { return *pos_avahi_; }
  PrivateAvahi& terminal_avahi() { return *terminal_avahi_; }

 private:
  WifiSite(std::filesystem::path dir, WifiSiteOptions options);

  std::filesystem::path dir_;
  WifiSiteOptions options_;
  PosdPaths posd_paths_;
  std::unique_ptr<NetNamespace> terminal_ns_;
  std::unique_ptr<NetNamespace> pos_ns_;
  std::unique_ptr<PrivateAvahi> terminal_avahi_;
  std::unique_ptr<PrivateAvahi> pos_avahi_;
  std::optional<Subprocess> posd_;
  int posd_starts_ = 0;
  std::map<std::string, SiteTerminal> terminals_;
  struct Rpc;
  std::unique_ptr<Rpc> rpc_;
};

}  // namespace posd::testing
