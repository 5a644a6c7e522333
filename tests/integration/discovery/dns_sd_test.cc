// DNS-SD for real, inside two network namespaces the test makes (a terminal's
// and posd's, over a veth pair), each with its own D-Bus and avahi-daemon:
// the AvahiPublisher announces in the terminal's namespace (from a helper
// process or posd-termsim --dns-sd), the AvahiBrowser in this process reads
// the pos namespace's daemon over its D-Bus socket (the process itself stays
// outside: D-Bus is a Unix socket), and the stock avahi-browse checks that
// what posd-termsim announces is plain DNS-SD.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "service/discovery/avahi_browser.h"
#include "tests/support/netns.h"
#include "tests/support/temp_dir.h"
#include "tests/support/termsim.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;
using discovery::Announcement;
using discovery::DiscoveryEvent;
using discovery::DiscoveryEventType;
using ::testing::HasSubstr;

constexpr char kTerminalIp[] = "10.232.0.2";
constexpr char kMovedIp[] = "10.232.0.3";
// Announcements take about 1 s to be established and withdrawals about 1 s
// to arrive; these bounds are generous, never timing claims.
constexpr auto kEventWait = 20s;

class RecordingSink : public discovery::DiscoverySink {
 public:
  void OnDiscoveryEvent(const DiscoveryEvent& event) override { events.push_back(event); }
  std::vector<DiscoveryEvent> events;
};

class DnsSdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = NetworkTestsUnavailable(); !why.empty()) GTEST_SKIP() << why;
    auto terminal_ns = NetNamespace::Create("dst");
    ASSERT_TRUE(terminal_ns.ok()) << terminal_ns.status();
    terminal_ns_ = *std::move(terminal_ns);
    auto pos_ns = NetNamespace::Create("dsp");
    ASSERT_TRUE(pos_ns.ok()) << pos_ns.status();
    pos_ns_ = *std::move(pos_ns);
    ASSERT_TRUE(ConnectWithVeth(*terminal_ns_, "vt", std::string(kTerminalIp) + "/24", *pos_ns_,
                                "vp", "10.232.0.1/24")
                    .ok());
    ASSERT_TRUE(terminal_ns_->Ip({"addr", "add", std::string(kMovedIp) + "/24", "dev", "vt"}).ok());
    auto terminal_avahi =
        PrivateAvahi::Start(*terminal_ns_, dir_.path() / "terminal", {"vt"}, "posd-dns-sd-t");
    ASSERT_TRUE(terminal_avahi.ok()) << terminal_avahi.status();
    terminal_avahi_ = *std::move(terminal_avahi);
    auto pos_avahi = PrivateAvahi::Start(*pos_ns_, dir_.path() / "pos", {"vp"}, "posd-dns-sd-p",
                                         PosBusSocket());
    ASSERT_TRUE(pos_avahi.ok()) << pos_avahi.status();
    pos_avahi_ = *std::move(pos_avahi);
    // Read by libdbus at this process's first connection, and kept: hence
    // the same socket path for every test's pos namespace.
    setenv("DBUS_SYSTEM_BUS_ADDRESS", pos_avahi_->bus_address().c_str(), 1);
  }

  void TearDown() override {
    browser_.reset();
    processes_.clear();
  }

  // The pos namespace's bus socket, one path for this whole process.
  static std::filesystem::path PosBusSocket() {
    return std::filesystem::temp_directory_path() /
           ("posd-dns-sd-test-" + std::to_string(getpid()) + ".bus");
  }

  // A publisher inside the terminal's namespace (dns_sd_publisher_helper.cc).
  Subprocess& StartPublisher(const std::string& name, const std::string& id,
                             const std::string& address, int port,
                             const std::vector<std::string>& move_to = {}) {
    std::vector<std::string> argv = {DNS_SD_PUBLISHER_HELPER, name, id, address,
                                     std::to_string(port)};
    argv.insert(argv.end(), move_to.begin(), move_to.end());
    const std::filesystem::path logs = dir_.path() / ("publisher-" + id);
    std::filesystem::create_directories(logs);
    processes_.push_back(std::make_unique<Subprocess>(
        Subprocess::Start(terminal_ns_->Wrap(argv), logs, {terminal_avahi_->env()})));
    return *processes_.back();
  }

  void StartBrowser() {
    auto browser = discovery::AvahiBrowser::Create(io_, sink_);
    ASSERT_TRUE(browser.ok()) << browser.status();
    browser_ = *std::move(browser);
  }

  // Runs the io_context (where the browser calls the sink) until `condition`.
  template <typename Condition>
  bool RunUntil(Condition condition, std::chrono::milliseconds timeout = kEventWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.run_for(10ms);
    }
    return true;
  }

  // Index of the first event at or after `from` of `type` for `id`, or -1.
  int FindEvent(DiscoveryEventType type, const std::string& id, size_t from = 0) const {
    for (size_t i = from; i < sink_.events.size(); ++i) {
      if (sink_.events[i].type == type && sink_.events[i].announcement.terminal_id == id) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  bool WaitForEvent(DiscoveryEventType type, const std::string& id, size_t from = 0) {
    return RunUntil([&] { return FindEvent(type, id, from) >= 0; });
  }

  std::string Events() const {
    std::string out;
    for (const DiscoveryEvent& e : sink_.events) {
      out += std::string(discovery::DiscoveryEventTypeName(e.type)) + " " +
             e.announcement.terminal_id + " " + e.announcement.address + ":" +
             std::to_string(e.announcement.port) + " '" + e.announcement.instance_name + "'\n";
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<NetNamespace> terminal_ns_;
  std::unique_ptr<NetNamespace> pos_ns_;
  std::unique_ptr<PrivateAvahi> terminal_avahi_;
  std::unique_ptr<PrivateAvahi> pos_avahi_;
  std::vector<std::unique_ptr<Subprocess>> processes_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  RecordingSink sink_;
  std::unique_ptr<discovery::AvahiBrowser> browser_;
};

// posd-termsim --websocket ADDRESS:0 --dns-sd inside the terminal's namespace.
struct Termsim {
  std::unique_ptr<Subprocess> process;
  std::filesystem::path control;
  int port = 0;
};

Termsim StartDnsSdTermsim(const NetNamespace& ns, const PrivateAvahi& avahi,
                          const std::filesystem::path& dir, const std::string& id) {
  Termsim termsim;
  std::filesystem::create_directories(dir);
  termsim.control = dir / "control.sock";
  termsim.process = std::make_unique<Subprocess>(Subprocess::Start(
      ns.Wrap({POSD_TERMSIM_BINARY, "--websocket", std::string(kTerminalIp) + ":0", "--ws-path",
               "/posd", "--dns-sd", "--device-id", id, "--ledger", (dir / "ledger").string(),
               "--control", termsim.control.string()}),
      dir, {avahi.env()}));
  const std::string prefix = std::string("WEBSOCKET ") + kTerminalIp + ":";
  WaitUntil(
      [&] {
        return !termsim.process->Running() ||
               termsim.process->Stdout().find(prefix) != std::string::npos;
      },
      20s);
  const std::string out = termsim.process->Stdout();
  if (const size_t at = out.find(prefix); at != std::string::npos) {
    termsim.port = std::atoi(out.c_str() + at + prefix.size());
  }
  return termsim;
}

bool Established(const Termsim& termsim, int count = 1) {
  const std::string line = TermsimControl(termsim.control, "dns-sd");
  const size_t at = line.find(" established=");
  return line.find("state=established") != std::string::npos && at != std::string::npos &&
         std::atoi(line.c_str() + at + 13) >= count;
}

TEST_F(DnsSdTest, ATerminalAppearsWithEveryTxtFieldRight) {
  Termsim termsim = StartDnsSdTermsim(*terminal_ns_, *terminal_avahi_, dir_.path() / "sim",
                                      "counter-1");
  ASSERT_NE(termsim.port, 0) << termsim.process->Stdout() << termsim.process->Stderr();
  EXPECT_THAT(termsim.process->Stdout(), HasSubstr("dns-sd   'posd-termsim counter-1'"));
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "counter-1"))
      << Events() << termsim.process->Stderr();
  const Announcement& seen = sink_.events[FindEvent(DiscoveryEventType::kAppeared, "counter-1")]
                                 .announcement;
  EXPECT_EQ(seen.instance_name, "posd-termsim counter-1");
  EXPECT_EQ(seen.address, kTerminalIp);
  EXPECT_EQ(seen.port, termsim.port);
  EXPECT_EQ(seen.path, "/posd");
  EXPECT_FALSE(seen.tls);
  EXPECT_EQ(seen.protocol_version, 1u);
  EXPECT_EQ(seen.source, discovery::DiscoverySource::kDnsSd);
  EXPECT_TRUE(browser_->daemon_running());
  ASSERT_EQ(browser_->Current().size(), 1u);
  EXPECT_EQ(browser_->Current()[0].terminal_id, "counter-1");
  EXPECT_GE(browser_->counters().resolved, 1u);
  // The simulator says when its announcement was established.
  EXPECT_TRUE(WaitUntil([&] { return Established(termsim); }, kEventWait))
      << TermsimControl(termsim.control, "dns-sd");
  EXPECT_THAT(TermsimControl(termsim.control, "help"), HasSubstr("| dns-sd"));
}

TEST_F(DnsSdTest, AMoveToANewAddressAndPortIsOneUpdate) {
  Subprocess& publisher =
      StartPublisher("Bar Terminal", "bar-1", kTerminalIp, 4711, {kMovedIp, "4712"});
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1")) << Events();
  const size_t before = sink_.events.size();
  publisher.Signal(SIGUSR1);
  ASSERT_TRUE(RunUntil([&] {
    const int i = FindEvent(DiscoveryEventType::kUpdated, "bar-1", before);
    return i >= 0 && sink_.events[i].announcement.address == kMovedIp;
  })) << Events()
      << publisher.Stdout();
  // Never the new address with the old port (or the reverse): every update
  // is the whole new target.
  for (size_t i = before; i < sink_.events.size(); ++i) {
    EXPECT_EQ(sink_.events[i].announcement.address, kMovedIp) << Events();
    EXPECT_EQ(sink_.events[i].announcement.port, 4712) << Events();
  }
  EXPECT_EQ(FindEvent(DiscoveryEventType::kVanished, "bar-1", before), -1)
      << "a move is not a disappearance:\n"
      << Events();
  EXPECT_THAT(publisher.Stdout(), HasSubstr("established=2"));
}

TEST_F(DnsSdTest, AWithdrawnTerminalVanishes) {
  Subprocess& publisher = StartPublisher("Bar Terminal", "bar-1", kTerminalIp, 4711);
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1")) << Events();
  publisher.Signal(SIGTERM);
  EXPECT_EQ(publisher.WaitForExit(10s), 0) << publisher.Stderr();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kVanished, "bar-1")) << Events();
  EXPECT_TRUE(browser_->Current().empty());
}

TEST_F(DnsSdTest, TwoTerminalsWithDifferentIdsAreTwo) {
  StartPublisher("Bar Terminal", "bar-1", kTerminalIp, 4711);
  StartPublisher("Patio Terminal", "patio-2", kMovedIp, 4712);
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1")) << Events();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "patio-2")) << Events();
  const std::vector<Announcement> current = browser_->Current();
  ASSERT_EQ(current.size(), 2u) << Events();
  EXPECT_EQ(current[0].terminal_id, "bar-1");
  EXPECT_EQ(current[0].address, kTerminalIp);
  EXPECT_EQ(current[1].terminal_id, "patio-2");
  EXPECT_EQ(current[1].address, kMovedIp);
  EXPECT_EQ(current[1].port, 4712);
}

TEST_F(DnsSdTest, AMalformedTxtRecordIsIgnoredAndCounted) {
  std::filesystem::create_directories(dir_.path() / "bad");
  processes_.push_back(std::make_unique<Subprocess>(Subprocess::Start(
      terminal_ns_->Wrap({"avahi-publish", "-s", "Bad Terminal", "_posterm._tcp", "4713",
                          "id=BAD", "proto=1"}),
      dir_.path() / "bad", {terminal_avahi_->env()})));
  StartPublisher("Bar Terminal", "bar-1", kTerminalIp, 4711);
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1")) << Events();
  ASSERT_TRUE(RunUntil([&] { return browser_->counters().malformed >= 1; }))
      << browser_->counters().last_error << processes_[0]->Stderr();
  EXPECT_THAT(browser_->counters().last_error, HasSubstr("id 'BAD' is not a terminal id"));
  for (const DiscoveryEvent& event : sink_.events) {
    EXPECT_EQ(event.announcement.terminal_id, "bar-1") << Events();
  }
  EXPECT_EQ(browser_->Current().size(), 1u);
}

TEST_F(DnsSdTest, TheBrowserSurvivesItsDaemonRestartingAndSeesTheTerminalAgain) {
  StartPublisher("Bar Terminal", "bar-1", kTerminalIp, 4711);
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1")) << Events();
  pos_avahi_->StopDaemon();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kVanished, "bar-1")) << Events();
  EXPECT_TRUE(RunUntil([&] { return !browser_->daemon_running(); }));
  const size_t before = sink_.events.size();
  ASSERT_TRUE(pos_avahi_->RestartDaemon().ok());
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1", before))
      << Events() << pos_avahi_->DaemonLog();
  EXPECT_TRUE(browser_->daemon_running());
  EXPECT_GE(browser_->counters().daemon_losses, 1u);
  EXPECT_GE(browser_->counters().daemon_connects, 2u);
}

TEST_F(DnsSdTest, ThePublisherAnnouncesAgainWhenItsDaemonRestarts) {
  Termsim termsim = StartDnsSdTermsim(*terminal_ns_, *terminal_avahi_, dir_.path() / "sim",
                                      "counter-1");
  ASSERT_NE(termsim.port, 0) << termsim.process->Stderr();
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "counter-1")) << Events();
  ASSERT_TRUE(WaitUntil([&] { return Established(termsim, 1); }, kEventWait));
  ASSERT_TRUE(terminal_avahi_->RestartDaemon().ok());
  EXPECT_TRUE(WaitUntil([&] { return Established(termsim, 2); }, kEventWait))
      << TermsimControl(termsim.control, "dns-sd") << "\n"
      << termsim.process->Stderr() << "\nterminal daemon:\n"
      << terminal_avahi_->DaemonLog();
  // Seen from posd: the same terminal at the same place (whether the old
  // daemon's goodbye arrived before the new announcement is up to Avahi).
  EXPECT_TRUE(RunUntil([&] {
    const std::vector<Announcement> current = browser_->Current();
    return current.size() == 1 && current[0].terminal_id == "counter-1" &&
           current[0].address == kTerminalIp && current[0].port == termsim.port;
  })) << Events();
}

TEST_F(DnsSdTest, TheBrowserStartsBeforeItsDaemonAndBrowsesWhenItComes) {
  pos_avahi_->StopDaemon();
  StartPublisher("Bar Terminal", "bar-1", kTerminalIp, 4711);
  StartBrowser();
  EXPECT_FALSE(browser_->daemon_running());
  ASSERT_TRUE(pos_avahi_->RestartDaemon().ok());
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1")) << Events();
  EXPECT_TRUE(browser_->daemon_running());
}

TEST_F(DnsSdTest, ATakenInstanceNameIsReplacedByAnAlternative) {
  Subprocess& first = StartPublisher("Bar Terminal", "bar-1", kTerminalIp, 4711);
  ASSERT_TRUE(WaitUntil([&] { return first.Stdout().find("established=1") != std::string::npos; },
                        kEventWait));
  Subprocess& second = StartPublisher("Bar Terminal", "bar-2", kMovedIp, 4712);
  ASSERT_TRUE(WaitUntil([&] { return second.Stdout().find("established=1") != std::string::npos; },
                        kEventWait))
      << second.Stdout();
  EXPECT_THAT(second.Stdout(), HasSubstr("collisions=1"));
  EXPECT_THAT(second.Stdout(), HasSubstr("name=Bar Terminal #2"));
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1")) << Events();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-2")) << Events();
  EXPECT_EQ(sink_.events[FindEvent(DiscoveryEventType::kAppeared, "bar-2")]
                .announcement.instance_name,
            "Bar Terminal #2");
}

TEST_F(DnsSdTest, StockAvahiBrowseSeesAndResolvesTheSimulator) {
  Termsim termsim = StartDnsSdTermsim(*terminal_ns_, *terminal_avahi_, dir_.path() / "sim",
                                      "counter-1");
  ASSERT_NE(termsim.port, 0) << termsim.process->Stderr();
  std::string seen;
  const bool resolved = WaitUntil(
      [&] {
        seen = RunCommand(pos_ns_->Wrap({"avahi-browse", "-rpt", "_posterm._tcp"}), 10s,
                          {pos_avahi_->env()})
                   .out;
        return seen.find("\"id=counter-1\"") != std::string::npos;
      },
      kEventWait);
  ASSERT_TRUE(resolved) << seen;
  // "=;vp;IPv4;NAME;_posterm._tcp;local;HOST;ADDRESS;PORT;TXT" (-p escapes a
  // space as \032)
  EXPECT_THAT(seen, HasSubstr(";posd-termsim\\032counter-1;_posterm._tcp;local;"
                              "posterm-counter-1-10-232-0-2.local;" +
                              std::string(kTerminalIp) + ";" + std::to_string(termsim.port) + ";"));
  EXPECT_THAT(seen, HasSubstr("\"proto=1\""));
  EXPECT_THAT(seen, HasSubstr("\"path=/posd\""));
  EXPECT_THAT(seen, HasSubstr("\"tls=0\""));
}

TEST_F(DnsSdTest, EveryMoveOfATerminalThatMovesALotIsOneUpdate) {
  // More moves than avahi-daemon lets one entry group be committed before
  // holding it back (15), each of which withdraws and re-announces the
  // same PTR record.
  Subprocess& publisher =
      StartPublisher("Bar Terminal", "bar-1", kTerminalIp, 4711, {kMovedIp, "4712"});
  StartBrowser();
  ASSERT_TRUE(WaitForEvent(DiscoveryEventType::kAppeared, "bar-1")) << Events();
  for (int move = 1; move <= 16; ++move) {
    const size_t before = sink_.events.size();
    publisher.Signal(SIGUSR1);
    const std::string address = move % 2 == 1 ? kMovedIp : kTerminalIp;
    const int port = move % 2 == 1 ? 4712 : 4711;
    ASSERT_TRUE(RunUntil([&] { return sink_.events.size() > before; }))
        << "move " << move << "\n" << Events() << publisher.Stdout();
    const DiscoveryEvent& event = sink_.events[before];
    EXPECT_EQ(event.type, DiscoveryEventType::kUpdated) << "move " << move << "\n" << Events();
    EXPECT_EQ(event.announcement.address, address) << "move " << move;
    EXPECT_EQ(event.announcement.port, port) << "move " << move;
    const std::string established = "established=" + std::to_string(move + 1) + " ";
    ASSERT_TRUE(WaitUntil(
        [&] { return publisher.Stdout().find(established) != std::string::npos; }, kEventWait));
  }
  // Nothing more trails behind the last move (a late VANISHED would).
  RunUntil([] { return false; }, 3s);
  EXPECT_EQ(sink_.events.size(), 17u) << Events();
  EXPECT_EQ(FindEvent(DiscoveryEventType::kVanished, "bar-1"), -1) << Events();
}

}  // namespace
}  // namespace posd::testing
