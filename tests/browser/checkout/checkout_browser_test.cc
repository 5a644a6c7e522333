// The checkout webview in a real browser (issue 14, item 5): Debian's
// chromium, headless, driven by puppeteer-core from node scenarios in
// scenarios/, against the real posd (HTTP edge serving gRPC-Web and the
// bundle) and posd-termsim on a pseudo-terminal. The simulator's ledger is
// the ground truth of what was charged; /metrics tells how many WatchEvents
// streams posd holds for the browser.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/browser/checkout/scenario_process.h"
#include "tests/support/posctl_output.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/termsim.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::SizeIs;

constexpr char kPosd[] = POSD_BINARY;
constexpr char kPosctl[] = POSCTL_BINARY;
constexpr char kTermsim[] = POSD_TERMSIM_BINARY;
constexpr char kNode[] = POSD_NODE;
constexpr char kChromium[] = POSD_CHROMIUM;
constexpr char kScenarioDir[] = POSD_SCENARIO_DIR;
constexpr char kCheckoutDist[] = POSD_CHECKOUT_DIST;
constexpr char kCheckoutInstaller[] = POSD_CHECKOUT_INSTALLER;

// A TCP port free on 127.0.0.1 now. posd's HTTP edge gets a fixed port
// (not 0) because the page must find posd at the same origin after posd
// restarts.
int FreeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool TcpAccepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool accepted = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return accepted;
}

class CheckoutBrowserTest : public ::testing::Test {
 protected:
  CheckoutBrowserTest() : paths_(dir_.path()), http_port_(FreeTcpPort()) {}

  void SetUp() override {
    // The bundle, installed as the demo installs it.
    const CommandResult installed = RunCommand(
        {kNode, kCheckoutInstaller, kCheckoutDist, dir_.File("bundles").string()}, 60s);
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;

    TermsimOptions options;
    options.link = dir_.File("terminal.pty");
    options.ledger = dir_.File("terminal.ledger");
    // Slow enough stages that a test can act while a payment is on the
    // terminal (close the leader tab, take a screenshot of the progress).
    options.step_ms = 400;
    termsim_.emplace(StartTermsim(kTermsim, options, dir_.path()));
    ASSERT_TRUE(termsim_->Running()) << termsim_->Stderr();

    WritePosdConfig(paths_,
                    "http:\n  listen: 127.0.0.1:" + std::to_string(http_port_) + "\n"
                    "bundles:\n  dir: " + dir_.File("bundles").string() + "\n"
                    "devices:\n  - id: counter-1\n    name: Counter 1 (simulated)\n"
                    "    serial:\n      port: " + options.link.string() + "\n");
    ASSERT_TRUE(StartPosdProcess()) << PosdLogs();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << PosdLogs();
  }

  bool StartPosdProcess() {
    posd_.emplace(StartPosd(kPosd, paths_, dir_.path()));
    return WaitUntil([&] { return !posd_->Running() || TcpAccepts(http_port_); }, 20s) &&
           posd_->Running();
  }

  bool StopPosdProcess() {
    if (!posd_.has_value()) return true;
    posd_->Signal(SIGTERM);
    const bool exited = posd_->WaitForExit(30s).has_value();
    if (exited) posd_.reset();
    return exited;
  }

  std::string PosdLogs() const {
    return posd_.has_value() ? "posd stderr:\n" + posd_->Stderr() : std::string();
  }

  // The scenario's HOST requests: stop-posd, start-posd, pay AMOUNT (a sale
  // by another till through posctl on the operator socket).
  std::string Handle(const std::string& request) {
    if (request == "stop-posd") return StopPosdProcess() ? "OK" : "ERR posd did not exit";
    if (request == "start-posd") return StartPosdProcess() ? "OK" : "ERR posd did not start";
    if (request.rfind("pay ", 0) == 0) {
      const CommandResult paid = RunCommand({kPosctl, "--address", paths_.address(), "pay",
                                             "--amount", request.substr(4), "--device", "counter-1"},
                                            60s);
      const std::string payment = PaymentIdIn(paid.out);
      if (paid.exit_code != 0 || payment.empty()) return "ERR posctl pay: " + paid.out + paid.err;
      return "OK " + payment;
    }
    return "ERR unknown request " + request;
  }

  ScenarioOutcome Run(const std::string& scenario) {
    const std::filesystem::path profile = dir_.File("chromium-profile");
    std::vector<std::string> env = {
        "POSD_HTTP_URL=http://127.0.0.1:" + std::to_string(http_port_),
        "POSD_CHROMIUM=" + std::string(kChromium),
        "POSD_BROWSER_PROFILE=" + profile.string(),
    };
    ScenarioOutcome outcome = RunScenario(
        {kNode, std::string(kScenarioDir) + "/" + scenario}, env,
        [this](const std::string& request) { return Handle(request); }, 240s);
    std::cout << outcome.transcript;
    return outcome;
  }

  std::map<std::string, LedgerTally> Ledger() {
    auto tallies = ReadLedgerTallies(dir_.File("terminal.ledger"));
    EXPECT_TRUE(tallies.ok()) << tallies.status();
    return tallies.ok() ? *tallies : std::map<std::string, LedgerTally>{};
  }

  TempDir dir_;
  PosdPaths paths_;
  int http_port_;
  std::optional<Subprocess> termsim_;
  std::optional<Subprocess> posd_;
};

TEST_F(CheckoutBrowserTest, SaleEndToEndChargesTheCardOnce) {
  const ScenarioOutcome outcome = Run("sale.mjs");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.transcript;
  const std::string payment = outcome.results.at("payment");
  const auto ledger = Ledger();
  ASSERT_THAT(ledger, SizeIs(1));
  ASSERT_TRUE(ledger.contains(payment)) << "ledger has no " << payment;
  EXPECT_EQ(ledger.at(payment).approved, 1);
  EXPECT_EQ(ledger.at(payment).outcome, "OUTCOME_APPROVED");
}

TEST_F(CheckoutBrowserTest, DeclinedCardIsShownAsDeclined) {
  const ScenarioOutcome outcome = Run("declined.mjs");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.transcript;
  const auto ledger = Ledger();
  const std::string payment = outcome.results.at("payment");
  ASSERT_TRUE(ledger.contains(payment)) << "ledger has no " << payment;
  EXPECT_EQ(ledger.at(payment).approved, 0);
  EXPECT_EQ(ledger.at(payment).outcome, "OUTCOME_DECLINED");
}

TEST_F(CheckoutBrowserTest, RefundFromTheTillIsRefusedAndShown) {
  const ScenarioOutcome outcome = Run("refund_refused.mjs");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.transcript;
  // The sale and nothing else: no refund reached the terminal.
  const auto ledger = Ledger();
  ASSERT_THAT(ledger, SizeIs(1));
  EXPECT_EQ(ledger.begin()->first, outcome.results.at("payment"));
  EXPECT_EQ(ledger.begin()->second.approved, 1);
}

TEST_F(CheckoutBrowserTest, TabsShareOneStreamThroughTheSharedWorker) {
  const ScenarioOutcome outcome = Run("shared_worker_tabs.mjs");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.transcript;
  EXPECT_THAT(Ledger(), SizeIs(1));
}

TEST_F(CheckoutBrowserTest, TabsShareOneStreamThroughALeaderTabThatHandsOver) {
  const ScenarioOutcome outcome = Run("leader_tabs.mjs");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.transcript;
  const auto ledger = Ledger();
  ASSERT_THAT(ledger, SizeIs(1));
  EXPECT_EQ(ledger.begin()->second.approved, 1);
}

TEST_F(CheckoutBrowserTest, PosdRestartMidSessionLosesAndRepeatsNoEvent) {
  const ScenarioOutcome outcome = Run("posd_restart.mjs");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.transcript;
  // Two sales from the UI and one from posctl while the UI was reconnecting,
  // each charged once.
  const auto ledger = Ledger();
  ASSERT_THAT(ledger, SizeIs(3));
  for (const auto& [transaction, tally] : ledger) EXPECT_EQ(tally.approved, 1) << transaction;
}

}  // namespace
}  // namespace posd::testing
