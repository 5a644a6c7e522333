// Wi-Fi terminals that roam, for real: posd in one network namespace and the
// simulated terminals in another, joined by a veth pair, each side with its
// own avahi-daemon (tests/support/wifi_site.h). The terminals announce
// themselves over DNS-SD (or the UDP beacon where avahi is stopped); posd
// follows each terminal by its id to whatever address it announces next.
// Every payment is checked against the terminal's ledger: charged once.
#include <signal.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/netns.h"
#include "tests/support/posctl_output.h"
#include "tests/support/temp_dir.h"
#include "tests/support/termsim.h"
#include "tests/support/wifi_site.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int kBeaconPort = 47474;

std::string BoundDevice(const std::string& device_id, const std::string& terminal_id) {
  return "  - id: " + device_id + "\n    websocket: {terminal_id: " + terminal_id + "}\n";
}

class WifiRoamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = NetworkTestsUnavailable(); !why.empty()) GTEST_SKIP() << why;
    WifiSiteOptions options;
    options.tag = "roam";
    options.net = 231;
    options.posd_binary = POSD_BINARY;
    options.termsim_binary = POSD_TERMSIM_BINARY;
    options.posctl_binary = POSCTL_BINARY;
    auto site = WifiSite::Create(dir_.path(), options);
    ASSERT_TRUE(site.ok()) << site.status();
    site_ = *std::move(site);
  }

  // posd following `devices` (YAML list items), DNS-SD on, the beacon on
  // posd's veth address, quick dead-peer detection.
  void StartPosd(const std::string& devices) {
    ASSERT_TRUE(site_
                    ->StartPosd("websocket:\n  ping_interval_ms: 250\n  dead_peer_timeout_ms: 1500\n"
                                "discovery:\n  dns_sd: true\n  beacon_listen: \"" +
                                site_->pos_address() + ":" + std::to_string(kBeaconPort) +
                                "\"\ndevices:\n" + devices)
                    .ok())
        << site_->PosdLog();
  }

  SiteTerminal* StartTerminal(const std::string& id, int host, std::vector<std::string> extra = {
                                                                   "--dns-sd"}) {
    const std::string ip = site_->Address(host);
    (void)site_->AddTerminalAddress(ip);  // already there on a restart
    auto terminal = site_->StartTerminal(id, ip, extra);
    EXPECT_TRUE(terminal.ok()) << terminal.status();
    return terminal.ok() ? *terminal : nullptr;
  }

  std::string At(const SiteTerminal& terminal) {
    return terminal.address + ":" + std::to_string(terminal.port);
  }

  std::string Show(const std::string& device_id) {
    return site_->Posctl({"-o", "json", "devices", "show", device_id}).out;
  }

  // Moves `id` to 10.x.0.<host> and takes its old address away, as a new
  // DHCP lease on another access point would.
  void Roam(const std::string& id, int host) {
    SiteTerminal* terminal = site_->terminal(id);
    ASSERT_NE(terminal, nullptr);
    const std::string old_ip = terminal->address;
    const std::string new_ip = site_->Address(host);
    ASSERT_TRUE(site_->AddTerminalAddress(new_ip).ok());
    auto port = site_->Move(id, new_ip);
    ASSERT_TRUE(port.ok()) << port.status();
    ASSERT_TRUE(site_->RemoveTerminalAddress(old_ip).ok());
  }

  // The ledger's verdict on one payment: charged exactly once.
  void ExpectChargedOnce(const SiteTerminal& terminal, const std::string& payment) {
    auto tallies = ReadLedgerTallies(terminal.ledger);
    ASSERT_TRUE(tallies.ok()) << tallies.status();
    ASSERT_EQ(tallies->count(payment), 1u) << payment;
    EXPECT_EQ(tallies->at(payment).approved, 1) << payment;
  }

  std::string Pay(const std::string& device_id, const std::string& amount) {
    const CommandResult paid =
        site_->Posctl({"pay", "--amount", amount, "--device", device_id}, 60s);
    EXPECT_EQ(paid.exit_code, 0) << paid.out << paid.err;
    EXPECT_THAT(paid.out, HasSubstr("APPROVED"));
    return testing::PaymentIdIn(paid.out);
  }

  TempDir dir_;
  std::unique_ptr<WifiSite> site_;
};

TEST_F(WifiRoamingTest, ANewTerminalIsDiscoveredAndItsDeviceConnects) {
  StartPosd(BoundDevice("bar-1", "wifi-1"));
  SiteTerminal* terminal = StartTerminal("wifi-1", 10);
  ASSERT_NE(terminal, nullptr);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");

  const CommandResult seen = site_->Posctl({"-o", "json", "devices", "discover"});
  EXPECT_EQ(seen.exit_code, 0) << seen.err;
  EXPECT_THAT(seen.out, HasSubstr("wifi-1"));
  EXPECT_THAT(seen.out, HasSubstr(terminal->address));
  EXPECT_THAT(seen.out, HasSubstr("bar-1"));

  const std::string payment = Pay("bar-1", "4.20");
  ASSERT_FALSE(payment.empty());
  ExpectChargedOnce(*terminal, payment);
}

TEST_F(WifiRoamingTest, TheDeviceFollowsATerminalThatMovesWhileIdle) {
  StartPosd(BoundDevice("bar-1", "wifi-1"));
  SiteTerminal* terminal = StartTerminal("wifi-1", 10);
  ASSERT_NE(terminal, nullptr);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");

  for (int host : {11, 12}) {
    Roam("wifi-1", host);
    ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s))
        << "after the move to " << At(*terminal) << ":\n"
        << Show("bar-1");
  }
  const std::string payment = Pay("bar-1", "7.00");
  ASSERT_FALSE(payment.empty());
  ExpectChargedOnce(*terminal, payment);
}

TEST_F(WifiRoamingTest, APaymentInFlightWhenTheTerminalMovesIsChargedOnce) {
  StartPosd(BoundDevice("bar-1", "wifi-1"));
  // Slow card steps, so the move lands while the sale runs.
  SiteTerminal* terminal = StartTerminal("wifi-1", 10, {"--dns-sd", "--step-ms", "400"});
  ASSERT_NE(terminal, nullptr);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");

  std::filesystem::create_directories(dir_.File("pay"));
  Subprocess pay = Subprocess::Start({POSCTL_BINARY, "--address", site_->posd_paths().address(),
                                      "pay", "--amount", "23.50", "--device", "bar-1"},
                                     dir_.File("pay"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto device = site_->GetDevice("bar-1");
        return device.ok() && !device->current_transaction_id().empty();
      },
      20s))
      << Show("bar-1");
  Roam("wifi-1", 11);

  ASSERT_EQ(pay.WaitForExit(90s), 0) << pay.Stdout() << pay.Stderr();
  EXPECT_THAT(pay.Stdout(), HasSubstr("APPROVED"));
  const std::string payment = testing::PaymentIdIn(pay.Stdout());
  ASSERT_FALSE(payment.empty()) << pay.Stdout();
  ExpectChargedOnce(*terminal, payment);
  EXPECT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");
}

TEST_F(WifiRoamingTest, ATerminalThatVanishesIsFollowedWhenItComesBackElsewhere) {
  StartPosd(BoundDevice("bar-1", "wifi-1"));
  SiteTerminal* terminal = StartTerminal("wifi-1", 10);
  ASSERT_NE(terminal, nullptr);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");

  site_->StopTerminal("wifi-1", SIGKILL);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto device = site_->GetDevice("bar-1");
        return device.ok() && device->state() != posd::v1::DEVICE_STATE_READY;
      },
      20s))
      << Show("bar-1");
  ASSERT_TRUE(site_->RemoveTerminalAddress(site_->Address(10)).ok());

  // Back after a reboot: another lease, another port, the same ledger.
  terminal = StartTerminal("wifi-1", 13);
  ASSERT_NE(terminal, nullptr);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");
  const std::string payment = Pay("bar-1", "2.10");
  ASSERT_FALSE(payment.empty());
  ExpectChargedOnce(*terminal, payment);
}

TEST_F(WifiRoamingTest, TwoTerminalsAreEachBoundToTheirOwnDevice) {
  StartPosd(BoundDevice("bar-1", "wifi-1") + BoundDevice("terrace-1", "wifi-2"));
  SiteTerminal* first = StartTerminal("wifi-1", 10);
  SiteTerminal* second = StartTerminal("wifi-2", 20);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*first), 30s)) << Show("bar-1");
  ASSERT_TRUE(site_->WaitForReady("terrace-1", At(*second), 30s)) << Show("terrace-1");

  Roam("wifi-2", 21);
  ASSERT_TRUE(site_->WaitForReady("terrace-1", At(*second), 30s)) << Show("terrace-1");
  EXPECT_TRUE(site_->WaitForReady("bar-1", At(*first), 5s)) << Show("bar-1");

  const std::string on_first = Pay("bar-1", "1.00");
  const std::string on_second = Pay("terrace-1", "2.00");
  ExpectChargedOnce(*first, on_first);
  ExpectChargedOnce(*second, on_second);
  auto first_ledger = ReadLedgerTallies(first->ledger);
  ASSERT_TRUE(first_ledger.ok());
  EXPECT_EQ(first_ledger->count(on_second), 0u) << "charged on the wrong terminal";
}

TEST_F(WifiRoamingTest, AStaleAnnouncementOfAnOldAddressDoesNotStrandTheTerminal) {
  StartPosd(BoundDevice("bar-1", "wifi-1"));
  SiteTerminal* terminal = StartTerminal("wifi-1", 10);
  ASSERT_NE(terminal, nullptr);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");
  const int old_port = terminal->port;
  Roam("wifi-1", 11);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");

  // Something on the network still announces the old place: a record for the
  // old address and a service with the terminal's id at the old port.
  std::filesystem::create_directories(dir_.File("stale"));
  Subprocess stale_host = Subprocess::Start(
      site_->terminal_ns().Wrap(
          {"avahi-publish", "-a", "-R", "stale-wifi-1.local", site_->Address(10)}),
      dir_.File("stale"), {site_->terminal_avahi().env()});
  Subprocess stale_service = Subprocess::Start(
      site_->terminal_ns().Wrap({"avahi-publish", "-s", "-H", "stale-wifi-1.local",
                                 "Stale wifi-1", "_posterm._tcp", std::to_string(old_port),
                                 "id=wifi-1", "proto=1", "path=/", "tls=0"}),
      dir_.File("stale"), {site_->terminal_avahi().env()});
  ASSERT_TRUE(WaitUntil(
      [&] {
        return site_->Posctl({"-o", "json", "devices", "discover"}).out.find(
                   site_->Address(10)) != std::string::npos;
      },
      20s))
      << "the stale announcement never reached posd";

  // The live link is kept ...
  EXPECT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 1s)) << Show("bar-1");
  // ... and when it breaks (the terminal freezes past the dead-peer time),
  // the stale address costs an attempt at most: posd ends at the live one.
  terminal->process->Signal(SIGSTOP);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto device = site_->GetDevice("bar-1");
        return device.ok() && device->state() != posd::v1::DEVICE_STATE_READY;
      },
      20s))
      << Show("bar-1");
  terminal->process->Signal(SIGCONT);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 45s)) << Show("bar-1");
  const std::string payment = Pay("bar-1", "3.30");
  ASSERT_FALSE(payment.empty());
  ExpectChargedOnce(*terminal, payment);
}

TEST_F(WifiRoamingTest, WithAvahiStoppedTheBeaconAloneFollowsAMove) {
  // mDNS blocked: neither side has an avahi-daemon any more.
  site_->terminal_avahi().StopDaemon();
  site_->pos_avahi().StopDaemon();
  StartPosd(BoundDevice("bar-1", "wifi-1"));
  SiteTerminal* terminal = StartTerminal(
      "wifi-1", 10,
      {"--beacon", site_->pos_address() + ":" + std::to_string(kBeaconPort),
       "--beacon-interval-ms", "200"});
  ASSERT_NE(terminal, nullptr);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");

  Roam("wifi-1", 11);
  ASSERT_TRUE(site_->WaitForReady("bar-1", At(*terminal), 30s)) << Show("bar-1");
  const CommandResult seen = site_->Posctl({"-o", "json", "devices", "discover"});
  EXPECT_THAT(seen.out, HasSubstr("BEACON"));
  const std::string payment = Pay("bar-1", "5.50");
  ASSERT_FALSE(payment.empty());
  ExpectChargedOnce(*terminal, payment);
}

}  // namespace
}  // namespace posd::testing
