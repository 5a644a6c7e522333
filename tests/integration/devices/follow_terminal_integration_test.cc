// posd follows a Wi-Fi terminal that moves (issue 5): the real posd, posctl
// and posd-termsim on loopback. Beacons are unicast to 127.0.0.1; all of
// 127.0.0.0/8 is on lo, so a move from 127.0.0.1 to 127.0.0.2 is a real
// address change without a network namespace. Some tests forge the beacons
// themselves (a datagram from the address they claim), so what posd is told
// is exactly what the test says.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/posd_instance.h"
#include "tests/support/posctl_output.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/termsim.h"

namespace posd {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::CommandResult;
using testing::RunCommand;
using testing::Subprocess;
using testing::WaitUntil;

// A UDP port free on 127.0.0.1 right now (for posd's beacon listener).
uint16_t FreeUdpPort() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Sends one beacon datagram from `from` (an address on lo) to posd, saying
// terminal `id` serves WebSocket on `port`. A long interval keeps it from
// expiring during the test.
void ForgeBeacon(const std::string& from, const std::string& id, int port, uint16_t to_port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in source{};
  source.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &source.sin_addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof(source)), 0);
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(to_port);
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string beacon =
      "POSTERM/1 id=" + id + " port=" + std::to_string(port) + " proto=1 interval_ms=60000";
  ASSERT_EQ(::sendto(fd, beacon.data(), beacon.size(), 0, reinterpret_cast<sockaddr*>(&target),
                     sizeof(target)),
            static_cast<ssize_t>(beacon.size()));
  ::close(fd);
}

int PortOf(const std::string& address) { return std::stoi(address.substr(address.rfind(':') + 1)); }

class FollowTerminalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    beacon_port_ = FreeUdpPort();
    std::filesystem::create_directories(dir_.File("posd"));
  }

  void TearDown() override {
    if (posd_) {
      posd_->Signal(SIGTERM);
      EXPECT_EQ(posd_->WaitForExit(30s), 0) << posd_->Stderr();
    }
    for (auto& [name, sim] : sims_) {
      sim.Signal(SIGTERM);
      sim.WaitForExit(10s);
    }
  }

  // posd with WebSocket devices (YAML list items) and discovery on
  // 127.0.0.1:beacon_port_.
  void StartPosd(const std::string& devices_yaml, const std::string& discovery_yaml = "") {
    testing::WritePosdConfig(
        paths_, "websocket:\n  ping_interval_ms: 250\n  dead_peer_timeout_ms: 1500\n"
                "terminals:\n  handshake_retry_initial_ms: 100\n"
                "discovery:\n  dns_sd: false\n  beacon_listen: 127.0.0.1:" +
                    std::to_string(beacon_port_) + "\n" + discovery_yaml +
                    (devices_yaml.empty() ? "" : "devices:\n" + devices_yaml));
    posd_.emplace(testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd")));
    ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
  }

  // A simulator named `name` (its own ledger, control socket and logs)
  // announcing `id`, on `listen`; with `beacon`, it sends beacons to posd.
  std::string StartSim(const std::string& name, const std::string& id,
                       const std::string& listen = "127.0.0.1:0", bool beacon = true,
                       std::vector<std::string> extra = {}) {
    const auto logs = dir_.File(name + "-" + std::to_string(++starts_));
    std::filesystem::create_directories(logs);
    testing::WebSocketTermsimOptions options;
    options.listen = listen;
    options.device_id = id;
    options.ledger = dir_.File(name + ".ledger");
    options.control = dir_.File(name + ".sock");
    if (beacon) options.beacon = "127.0.0.1:" + std::to_string(beacon_port_);
    options.extra = std::move(extra);
    std::string address;
    sims_.erase(name);
    sims_.emplace(name, testing::StartWebSocketTermsim(POSD_TERMSIM_BINARY, options, logs, address));
    EXPECT_FALSE(address.empty()) << sims_.at(name).Stdout() << sims_.at(name).Stderr();
    return address;
  }

  void StopSim(const std::string& name) {
    auto found = sims_.find(name);
    if (found == sims_.end()) return;
    found->second.Signal(SIGTERM);
    found->second.WaitForExit(10s);
    sims_.erase(found);
  }

  std::string Move(const std::string& name, const std::string& to) {
    auto moved = testing::TermsimMove(dir_.File(name + ".sock"), to);
    EXPECT_TRUE(moved.ok()) << moved.status();
    return moved.ok() ? *moved : "";
  }

  CommandResult Posctl(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), {POSCTL_BINARY, "--address", paths_.address()});
    return RunCommand(args, timeout);
  }

  std::string Show(const std::string& device) {
    return Posctl({"-o", "json", "devices", "show", device}).out;
  }

  // Until `devices show` holds every one of `parts`.
  bool WaitForShown(const std::string& device, const std::vector<std::string>& parts,
                    std::chrono::milliseconds timeout = 45s) {
    return WaitUntil(
        [&] {
          const std::string shown = Show(device);
          return std::all_of(parts.begin(), parts.end(), [&](const std::string& part) {
            return shown.find(part) != std::string::npos;
          });
        },
        timeout);
  }

  static std::string LastAddress(const std::string& address) {
    return "\"last_address\": \"" + address + "\"";
  }

  std::string Handshakes(const std::string& device) {
    static const std::regex kHandshakes("\"handshakes\": \"([0-9]+)\"");
    std::smatch match;
    const std::string shown = Show(device);
    return std::regex_search(shown, match, kHandshakes) ? match[1].str() : "0";
  }

  posd::testing::TempDir dir_;
  testing::PosdPaths paths_{dir_.path()};
  uint16_t beacon_port_ = 0;
  int starts_ = 0;
  std::map<std::string, Subprocess> sims_;
  std::optional<Subprocess> posd_;
};

constexpr char kReady[] = "DEVICE_STATE_READY";

// A device configured at the terminal's first address follows it, while
// idle, to another address and port announced by its beacon.
TEST_F(FollowTerminalTest, FollowsAMoveWhileIdle) {
  const std::string first = StartSim("bar", "wifi-1");
  StartPosd("  - id: wifi-1\n    websocket:\n      address: " + first + "\n");
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(first)})) << Show("wifi-1");

  const std::string second = Move("bar", "127.0.0.2:0");
  ASSERT_THAT(second, HasSubstr("127.0.0.2:"));
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(second), "\"handshakes\": \"2\""}))
      << Show("wifi-1") << posd_->Stderr();
  // The configured address is unchanged; the link is where the terminal is.
  EXPECT_THAT(Show("wifi-1"), HasSubstr("\"port\": " + std::to_string(PortOf(first))));
  const CommandResult paid = Posctl({"pay", "--amount", "4.20", "--device", "wifi-1"}, 60s);
  ASSERT_EQ(paid.exit_code, 0) << paid.out << paid.err;
  EXPECT_THAT(paid.out, HasSubstr("APPROVED"));
}

// The terminal moves while a payment waits for it: the link drops, posd
// follows the beacon, the channel asks again and the payment ends APPROVED
// with a single charge in the terminal's ledger.
TEST_F(FollowTerminalTest, FollowsAMoveMidTransactionAndChargesOnce) {
  const std::string first = StartSim("bar", "wifi-1", "127.0.0.1:0", true, {"--slow-ms", "1500"});
  StartPosd("  - id: wifi-1\n    websocket:\n      address: " + first + "\n");
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady})) << Show("wifi-1");

  std::filesystem::create_directories(dir_.File("pay"));
  // Amounts ending in 53 take --slow-ms longer: time to move meanwhile.
  Subprocess pay = Subprocess::Start({POSCTL_BINARY, "--address", paths_.address(), "pay",
                                      "--amount", "12.53", "--device", "wifi-1"},
                                     dir_.File("pay"));
  ASSERT_TRUE(WaitForShown("wifi-1", {"DEVICE_STATE_BUSY"})) << Show("wifi-1");
  const std::string second = Move("bar", "127.0.0.2:0");
  ASSERT_FALSE(second.empty());

  ASSERT_EQ(pay.WaitForExit(60s), 0) << pay.Stdout() << pay.Stderr();
  EXPECT_THAT(pay.Stdout(), HasSubstr("APPROVED"));
  const std::string payment = testing::PaymentIdIn(pay.Stdout());
  ASSERT_FALSE(payment.empty()) << pay.Stdout();
  auto tallies = testing::ReadLedgerTallies(dir_.File("bar.ledger"));
  ASSERT_TRUE(tallies.ok()) << tallies.status();
  ASSERT_TRUE(tallies->contains(payment));
  EXPECT_EQ(tallies->at(payment).approved, 1);
  EXPECT_EQ(tallies->at(payment).started, 1);
  EXPECT_EQ(tallies->at(payment).outcome, "OUTCOME_APPROVED");
  EXPECT_THAT(Posctl({"-o", "json", "payments", "show", payment}).out,
              HasSubstr("PAYMENT_STATUS_APPROVED"));
  EXPECT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(second)})) << Show("wifi-1");
}

// A stale beacon of the old address after a move neither breaks the link
// nor strands the device: when the link drops, the stale address costs one
// failed attempt and posd goes back to where the terminal is.
TEST_F(FollowTerminalTest, AStaleAnnouncementNeverStrandsTheDevice) {
  // Beacons are forged by the test: the device follows discovery alone.
  const std::string first = StartSim("bar", "wifi-1", "127.0.0.1:0", /*beacon=*/false,
                                     {"--power-off-ms", "200"});
  StartPosd("  - id: wifi-1\n    websocket:\n      terminal_id: wifi-1\n");
  ASSERT_TRUE(WaitForShown("wifi-1", {"DEVICE_STATE_DISCONNECTED", "NOT_DISCOVERED",
                                      "waiting for terminal wifi-1 to announce itself"}))
      << Show("wifi-1");
  ForgeBeacon("127.0.0.1", "wifi-1", PortOf(first), beacon_port_);
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(first)})) << Show("wifi-1");

  const std::string second = Move("bar", "127.0.0.2:0");
  ForgeBeacon("127.0.0.2", "wifi-1", PortOf(second), beacon_port_);
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(second), "\"handshakes\": \"2\""}))
      << Show("wifi-1");

  // The stale one: the old address and port, from the old address.
  ForgeBeacon("127.0.0.1", "wifi-1", PortOf(first), beacon_port_);
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string seen = Posctl({"-o", "json", "devices", "discover"}).out;
        return seen.find("\"address\":\"127.0.0.1\"") != std::string::npos;
      },
      20s));
  EXPECT_THAT(Show("wifi-1"), HasSubstr(kReady));
  EXPECT_EQ(Handshakes("wifi-1"), "2");
  EXPECT_THAT(Show("wifi-1"), HasSubstr(LastAddress(second)));

  // The link drops (the terminal reboots where it is): posd tries the stale
  // address first, finds nothing, and comes back here.
  ASSERT_EQ(testing::TermsimControl(dir_.File("bar.sock"), "power-cut").rfind("OK", 0), 0u);
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(second), "\"handshakes\": \"3\""}))
      << Show("wifi-1") << posd_->Stderr();
}

// A terminal with another id at an announced address is refused before it
// gets anything, and posd goes on to the right one.
TEST_F(FollowTerminalTest, AnotherTerminalAtAnAnnouncedAddressIsRefused) {
  const std::string right = StartSim("right", "wifi-1", "127.0.0.1:0", false);
  const std::string wrong = StartSim("wrong", "other-1", "127.0.0.2:0", false);
  StartPosd("  - id: wifi-1\n    websocket:\n      terminal_id: wifi-1\n");
  // Announced where the other terminal serves (a stale address now used by
  // another terminal).
  ForgeBeacon("127.0.0.2", "wifi-1", PortOf(wrong), beacon_port_);
  ASSERT_TRUE(WaitForShown("wifi-1", {"WRONG_TERMINAL"})) << Show("wifi-1");
  const std::string shown = Show("wifi-1");
  EXPECT_THAT(shown, Not(HasSubstr(kReady)));
  EXPECT_THAT(shown, HasSubstr("other-1"));
  const CommandResult listed = Posctl({"devices", "list"});
  EXPECT_THAT(listed.out, HasSubstr("WRONG_TERMINAL")) << listed.out;

  ForgeBeacon("127.0.0.1", "wifi-1", PortOf(right), beacon_port_);
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(right)})) << Show("wifi-1");
  const CommandResult paid = Posctl({"pay", "--amount", "3.00", "--device", "wifi-1"}, 60s);
  ASSERT_EQ(paid.exit_code, 0) << paid.out << paid.err;
  const std::string payment = testing::PaymentIdIn(paid.out);
  auto right_ledger = testing::ReadLedgerTallies(dir_.File("right.ledger"));
  ASSERT_TRUE(right_ledger.ok()) << right_ledger.status();
  EXPECT_EQ(right_ledger->at(payment).approved, 1);
  // The other terminal never saw a transaction.
  auto wrong_ledger = testing::ReadLedgerTallies(dir_.File("wrong.ledger"));
  EXPECT_TRUE(!wrong_ledger.ok() || wrong_ledger->empty());
}

// Two terminals with their own ids, each bound to its device; discover
// lists both with their devices.
TEST_F(FollowTerminalTest, TwoTerminalsEachFindTheirDevice) {
  const std::string one = StartSim("one", "wifi-1");
  const std::string two = StartSim("two", "wifi-2", "127.0.0.3:0");
  StartPosd("  - id: wifi-1\n    websocket:\n      terminal_id: wifi-1\n"
            "  - id: wifi-2\n    websocket:\n      terminal_id: wifi-2\n");
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(one)})) << Show("wifi-1");
  ASSERT_TRUE(WaitForShown("wifi-2", {kReady, LastAddress(two)})) << Show("wifi-2");

  const CommandResult table = Posctl({"devices", "discover"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("TERMINAL"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("wifi-1 +- +" + one + " +1 +beacon +wifi-1"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("wifi-2 +- +" + two + " +1 +beacon +wifi-2"));
  const CommandResult json = Posctl({"-o", "json", "devices", "discover"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"terminal_id\":\"wifi-2\""));
  EXPECT_THAT(json.out, HasSubstr("\"source\":\"DISCOVERY_SOURCE_BEACON\""));
  EXPECT_THAT(json.out, HasSubstr("\"device_id\":\"wifi-2\""));
}

// The terminal vanishes (stopped: its beacons end) and comes back, same
// ledger, at another port: the device follows.
TEST_F(FollowTerminalTest, FollowsATerminalThatVanishesAndComesBackElsewhere) {
  const std::string first = StartSim("bar", "wifi-1");
  StartPosd("  - id: wifi-1\n    websocket:\n      terminal_id: wifi-1\n");
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(first)})) << Show("wifi-1");
  StopSim("bar");
  // Vanished from discovery once three of its intervals passed unheard.
  ASSERT_TRUE(WaitUntil(
      [&] { return Posctl({"devices", "discover"}).out.find("no terminals") != std::string::npos; },
      30s));
  EXPECT_THAT(Show("wifi-1"), Not(HasSubstr(kReady)));

  const std::string back = StartSim("bar", "wifi-1", "127.0.0.2:0");
  ASSERT_NE(back, first);
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(back)})) << Show("wifi-1");
}

// auto_add: an unknown terminal id is registered as a WebSocket device and
// audited as a system action (create_device by posd).
TEST_F(FollowTerminalTest, AutoAddRegistersANewTerminal) {
  StartPosd("", "  auto_add: true\n");
  const std::string address = StartSim("bar", "bar-9");
  ASSERT_TRUE(WaitForShown("bar-9", {kReady, LastAddress(address)})) << Show("bar-9");
  const CommandResult audit = Posctl({"audit", "list"});
  EXPECT_THAT(audit.out, HasSubstr("CREATE_DEVICE device bar-9  by posd")) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("reason: discovery.auto_add")) << audit.out;
  const CommandResult paid = Posctl({"pay", "--amount", "1.00", "--device", "bar-9"}, 60s);
  EXPECT_EQ(paid.exit_code, 0) << paid.out << paid.err;
}

// A device added through the API without an address waits for its
// terminal's announcement and connects there.
TEST_F(FollowTerminalTest, ADeviceAddedWithoutAnAddressWaitsForItsTerminal) {
  StartPosd("");
  const CommandResult added =
      Posctl({"devices", "add", "--id", "wifi-7", "--follow-discovery"});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  ASSERT_TRUE(WaitForShown("wifi-7", {"NOT_DISCOVERED"})) << Show("wifi-7");
  EXPECT_THAT(Posctl({"devices", "list"}).out, HasSubstr("(discovery)"));
  const std::string address = StartSim("bar", "wifi-7", "127.0.0.2:0");
  ASSERT_TRUE(WaitForShown("wifi-7", {kReady, LastAddress(address)})) << Show("wifi-7");
  EXPECT_THAT(Posctl({"devices", "list"}).out, HasSubstr(address + " (discovery)"));
}

// Without a beacon listener discovery shows nothing but still answers; a
// beacon port that cannot be bound does not stop posd and is reported.
TEST_F(FollowTerminalTest, ABeaconPortInUseIsReportedAndPosdRunsOn) {
  const int blocker = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(beacon_port_);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(blocker, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string first = StartSim("bar", "wifi-1", "127.0.0.1:0", false);
  StartPosd("  - id: wifi-1\n    websocket:\n      address: " + first + "\n");
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady})) << Show("wifi-1");
  const CommandResult discovered = Posctl({"devices", "discover"});
  EXPECT_EQ(discovered.exit_code, 0) << discovered.err;
  EXPECT_THAT(discovered.err, HasSubstr("warning: discovery: beacon: cannot listen for beacons"));
  EXPECT_THAT(posd_->Stderr(), HasSubstr("NO BEACON DISCOVERY"));
  ::close(blocker);
}

// Milliseconds since midnight of each "HH:MM:SS.mmm" that starts a log
// line matching `pattern` (both binaries log local time to the millisecond).
std::vector<int64_t> LogTimes(const std::string& log, const std::string& pattern) {
  const std::regex line_regex("(\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d{3})[^\\n]*" + pattern);
  std::vector<int64_t> out;
  for (std::sregex_iterator it(log.begin(), log.end(), line_regex), end; it != end; ++it) {
    out.push_back(((std::stoll((*it)[1]) * 60 + std::stoll((*it)[2])) * 60 + std::stoll((*it)[3])) *
                      1000 +
                  std::stoll((*it)[4]));
  }
  return out;
}

// Not a timing claim: measures, over 20 moves with a 200 ms beacon, the time
// from the moved terminal's first beacon at its new address (sent as the
// move happens) to the device READY there, from both processes' logs, and
// prints it for the record.
TEST_F(FollowTerminalTest, MeasuresMovesToReady) {
  const std::string first = StartSim("bar", "wifi-1");
  StartPosd("  - id: wifi-1\n    websocket:\n      terminal_id: wifi-1\n");
  ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(first)})) << Show("wifi-1");
  constexpr int kMoves = 20;
  for (int i = 0; i < kMoves; ++i) {
    const std::string to = i % 2 == 0 ? "127.0.0.2:0" : "127.0.0.1:0";
    const std::string moved = Move("bar", to);
    ASSERT_FALSE(moved.empty());
    ASSERT_TRUE(WaitForShown("wifi-1", {kReady, LastAddress(moved)})) << Show("wifi-1");
  }
  const std::vector<int64_t> moves = LogTimes(sims_.at("bar").Stderr(), "MOVED to");
  const std::vector<int64_t> ready = LogTimes(posd_->Stderr(), "terminal wifi-1: READY");
  ASSERT_EQ(moves.size(), static_cast<size_t>(kMoves));
  std::vector<int64_t> took;
  for (int64_t moved_at : moves) {
    auto next = std::find_if(ready.begin(), ready.end(), [&](int64_t at) { return at >= moved_at; });
    ASSERT_NE(next, ready.end());
    took.push_back(*next - moved_at);
  }
  std::sort(took.begin(), took.end());
  const int64_t median = (took[kMoves / 2 - 1] + took[kMoves / 2]) / 2;
  std::cout << "reconnect moves=" << kMoves << " median_ms=" << median
            << " max_ms=" << took.back() << " (loopback, beacon every 200 ms, ASan build)\n";
  RecordProperty("reconnect_median_ms", static_cast<int>(median));
  RecordProperty("reconnect_max_ms", static_cast<int>(took.back()));
}

}  // namespace
}  // namespace posd
