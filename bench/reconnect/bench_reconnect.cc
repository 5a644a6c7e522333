// bench_reconnect: how fast posd follows a Wi-Fi terminal that moves, and how
// fast it notices a terminal that died, on a miniature shop network it makes
// and removes itself (tests/support/wifi_site.h: posd and posd-termsim in
// two network namespaces over a veth, an avahi-daemon in each). Run as root.
//
//   reconnect: the terminal moves (a new address on its side of the veth, a
//     new port, the old address removed); measured from the moment its new
//     DNS-SD announcement is established (the simulator's publisher reports
//     it) to posd's device READY at the new address, polled every 1 ms over
//     posd's gRPC socket. Also from the move command itself, which includes
//     Avahi's probing of the new records.
//   reconnect-beacon: the same with avahi stopped and the UDP beacon alone
//     (200 ms interval), from the move command.
//   deadpeer: the terminal freezes (SIGSTOP: its kernel still ACKs, only the
//     WebSocket pongs stop) until posd's device leaves READY.
//
// Prints, besides a table, the lines
//   reconnect moves=N median_ms=... max_ms=...
//   deadpeer median_ms=... max_ms=... runs=N
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/netns.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wifi_site.h"

namespace {

using namespace std::chrono_literals;
using posd::testing::WifiSite;
using Clock = std::chrono::steady_clock;

struct Options {
  int moves = 20;
  int beacon_moves = 10;
  int deadpeer_runs = 10;
  std::filesystem::path dir;  // empty: a temporary folder
};

std::optional<Options> ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const std::string value = argv[++i];
    if (name == "--moves") {
      options.moves = std::atoi(value.c_str());
    } else if (name == "--beacon-moves") {
      options.beacon_moves = std::atoi(value.c_str());
    } else if (name == "--deadpeer-runs") {
      options.deadpeer_runs = std::atoi(value.c_str());
    } else if (name == "--dir") {
      options.dir = value;
    } else {
      return std::nullopt;
    }
  }
  if (options.moves < 1 || options.moves > 200 || options.beacon_moves < 0 ||
      options.beacon_moves > 200 || options.deadpeer_runs < 1 || options.deadpeer_runs > 100) {
    return std::nullopt;
  }
  return options;
}

struct Series {
  std::vector<double> ms;
  double Median() const {
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    return n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
  double Max() const { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// When the simulator's current DNS-SD announcement was established, on the
// steady clock (CLOCK_MONOTONIC, the same in every process of the machine),
// from its `dns-sd` control command: "OK dns-sd state=... established=N
// established_mono_ns=T ...".
std::optional<Clock::time_point> AnnouncedAt(WifiSite& site, const std::string& id) {
  const std::string answer = site.Control(id, "dns-sd");
  const std::string key = " established_mono_ns=";
  const size_t at = answer.find(key);
  if (answer.rfind("OK", 0) != 0 || at == std::string::npos) {
    std::fprintf(stderr, "bench_reconnect: dns-sd: %s\n", answer.c_str());
    return std::nullopt;
  }
  const long long ns = std::atoll(answer.c_str() + at + key.size());
  if (ns <= 0) return std::nullopt;
  return Clock::time_point(std::chrono::nanoseconds(ns));
}

// Polls every millisecond until `device_id` is READY at `address_port`.
std::optional<Clock::time_point> WaitReadyAt(WifiSite& site, const std::string& device_id,
                                             const std::string& address_port,
                                             std::chrono::milliseconds timeout) {
  if (!site.WaitForReady(device_id, address_port, timeout, 1ms)) return std::nullopt;
  return Clock::now();
}

std::string AddressPort(const posd::testing::SiteTerminal& terminal) {
  return terminal.address + ":" + std::to_string(terminal.port);
}

// One move of `id` from its address to 10.x.0.<host>, the old one removed.
bool Move(WifiSite& site, const std::string& id, int host, Clock::time_point& moved_at) {
  posd::testing::SiteTerminal* terminal = site.terminal(id);
  const std::string old_ip = terminal->address;
  const std::string new_ip = site.Address(host);
  if (!site.AddTerminalAddress(new_ip).ok()) return false;
  moved_at = Clock::now();
  auto port = site.Move(id, new_ip);
  if (!port.ok()) {
    std::fprintf(stderr, "bench_reconnect: %s\n", std::string(port.status().message()).c_str());
    return false;
  }
  return site.RemoveTerminalAddress(old_ip).ok();
}

int Run(const Options& options) {
  if (std::string why = posd::testing::NetworkTestsUnavailable(); !why.empty()) {
    std::fprintf(stderr, "bench_reconnect: cannot run here: %s\n", why.c_str());
    return 77;
  }
  posd::testing::TempDir temp;
  const std::filesystem::path dir = options.dir.empty() ? temp.path() : options.dir / "run";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  posd::testing::WifiSiteOptions site_options;
  site_options.tag = "bench";
  site_options.net = 232;
  site_options.posd_binary = POSD_BINARY;
  site_options.termsim_binary = POSD_TERMSIM_BINARY;
  site_options.posctl_binary = POSCTL_BINARY;
  auto created = WifiSite::Create(dir, site_options);
  if (!created.ok()) {
    std::fprintf(stderr, "bench_reconnect: %s\n", created.status().ToString().c_str());
    return 1;
  }
  WifiSite& site = **created;
  const int beacon_port = 47474;
  // posd's defaults for the WebSocket timers: the dead-peer figure is the
  // one a shop gets.
  const std::string yaml = "discovery:\n  dns_sd: true\n  beacon_listen: \"" +
                           site.pos_address() + ":" + std::to_string(beacon_port) +
                           "\"\ndevices:\n  - id: bar-1\n    websocket: {terminal_id: wifi-1}\n";
  if (absl::Status started = site.StartPosd(yaml); !started.ok()) {
    std::fprintf(stderr, "bench_reconnect: %s\n", started.ToString().c_str());
    return 1;
  }
  int host = 10;
  if (!site.AddTerminalAddress(site.Address(host)).ok()) return 1;
  // DNS-SD alone first: a beacon would tell posd of a move before the
  // announcement under test.
  auto terminal = site.StartTerminal("wifi-1", site.Address(host), {"--dns-sd"});
  if (!terminal.ok()) {
    std::fprintf(stderr, "bench_reconnect: %s\n", terminal.status().ToString().c_str());
    return 1;
  }
  if (!WaitReadyAt(site, "bar-1", AddressPort(**terminal), 60s)) {
    std::fprintf(stderr, "bench_reconnect: the terminal never became READY\n%s\n",
                 site.PosdLog().c_str());
    return 1;
  }

  Series from_announcement;
  Series from_move;
  for (int i = 0; i < options.moves; ++i) {
    host = 10 + (host - 9) % 200;
    Clock::time_point moved_at;
    if (!Move(site, "wifi-1", host, moved_at)) return 1;
    auto ready = WaitReadyAt(site, "bar-1", AddressPort(**terminal), 30s);
    if (!ready) {
      std::fprintf(stderr, "bench_reconnect: move %d: not READY at %s within 30 s\n", i + 1,
                   AddressPort(**terminal).c_str());
      return 1;
    }
    from_move.ms.push_back(Ms(*ready - moved_at));
    if (auto announced = AnnouncedAt(site, "wifi-1")) {
      from_announcement.ms.push_back(Ms(*ready - *announced));
    }
  }

  Series deadpeer;
  for (int i = 0; i < options.deadpeer_runs; ++i) {
    const Clock::time_point frozen_at = Clock::now();
    (*terminal)->process->Signal(SIGSTOP);
    const bool noticed = posd::testing::WaitUntil(
        [&] {
          auto device = site.GetDevice("bar-1");
          return device.ok() && device->state() != posd::v1::DEVICE_STATE_READY;
        },
        30s);
    const Clock::time_point noticed_at = Clock::now();
    (*terminal)->process->Signal(SIGCONT);
    if (!noticed) {
      std::fprintf(stderr, "bench_reconnect: a frozen terminal was not noticed in 30 s\n");
      return 1;
    }
    deadpeer.ms.push_back(Ms(noticed_at - frozen_at));
    if (!WaitReadyAt(site, "bar-1", AddressPort(**terminal), 30s)) return 1;
  }

  // The fallback: mDNS gone from the network, the beacon alone.
  Series beacon;
  if (options.beacon_moves > 0) {
    site.terminal_avahi().StopDaemon();
    site.pos_avahi().StopDaemon();
    // The same terminal (same ledger), now sending beacons to posd.
    site.StopTerminal("wifi-1", SIGTERM);
    terminal = site.StartTerminal(
        "wifi-1", site.Address(host),
        {"--beacon", site.pos_address() + ":" + std::to_string(beacon_port),
         "--beacon-interval-ms", "200"});
    if (!terminal.ok()) {
      std::fprintf(stderr, "bench_reconnect: %s\n", terminal.status().ToString().c_str());
      return 1;
    }
    if (!WaitReadyAt(site, "bar-1", AddressPort(**terminal), 60s)) return 1;
    for (int i = 0; i < options.beacon_moves; ++i) {
      host = 10 + (host - 9) % 200;
      Clock::time_point moved_at;
      if (!Move(site, "wifi-1", host, moved_at)) return 1;
      auto ready = WaitReadyAt(site, "bar-1", AddressPort(**terminal), 30s);
      if (!ready) {
        std::fprintf(stderr, "bench_reconnect: beacon move %d: not READY within 30 s\n", i + 1);
        return 1;
      }
      beacon.ms.push_back(Ms(*ready - moved_at));
    }
  }

  std::printf("%-54s %6s %10s %10s\n", "measurement", "n", "median ms", "max ms");
  const auto row = [](const char* name, const Series& series) {
    std::printf("%-54s %6zu %10.1f %10.1f\n", name, series.ms.size(), series.Median(),
                series.Max());
  };
  row("DNS-SD announcement established -> READY at new addr", from_announcement);
  row("move command -> READY at new address (DNS-SD)", from_move);
  row("move command -> READY at new address (beacon only)", beacon);
  row("terminal frozen -> posd notices (defaults 1 s / 3 s)", deadpeer);
  std::printf("reconnect moves=%zu median_ms=%.1f max_ms=%.1f\n", from_announcement.ms.size(),
              from_announcement.Median(), from_announcement.Max());
  std::printf("reconnect_from_move moves=%zu median_ms=%.1f max_ms=%.1f\n", from_move.ms.size(),
              from_move.Median(), from_move.Max());
  std::printf("reconnect_beacon moves=%zu median_ms=%.1f max_ms=%.1f\n", beacon.ms.size(),
              beacon.Median(), beacon.Max());
  std::printf("deadpeer median_ms=%.1f max_ms=%.1f runs=%zu\n", deadpeer.Median(), deadpeer.Max(),
              deadpeer.ms.size());
  return from_announcement.ms.size() == static_cast<size_t>(options.moves) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> options = ParseOptions(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "usage: bench_reconnect [--moves N (20)] [--beacon-moves N (10)]\n"
                 "                       [--deadpeer-runs N (10)] [--dir DIR]\n");
    return 2;
  }
  return Run(*options);
}
