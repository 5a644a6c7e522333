// posd with a terminal: the real posd, posctl and posd-termsim binaries,
// the terminal on a pseudo-terminal, as in deploy/run-demo.sh.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/termsim.h"

namespace posd {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::CommandResult;
using testing::RunCommand;
using testing::Subprocess;
using testing::WaitUntil;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class DevicesIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* logs : {"sim", "posd", "posd2", "trace"}) {
      std::filesystem::create_directories(dir_.File(logs));
    }
    link_ = dir_.File("terminal.pty");
    ledger_ = dir_.File("terminal-ledger");
    sim_.emplace(Subprocess::Start({POSD_TERMSIM_BINARY, "--pty", "--link", link_.string(),
                                    "--ledger", ledger_.string(), "--step-ms", "20"},
                                   dir_.File("sim")));
    ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(link_); }, 45s))
        << sim_->Stderr();
    testing::WritePosdConfig(paths_, "devices:\n  - id: counter-1\n    name: Counter 1\n"
                                     "    serial:\n      port: " +
                                         link_.string() + "\n");
    posd_.emplace(testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd")));
    ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
  }

  void TearDown() override {
    if (posd_) {
      posd_->Signal(SIGTERM);
      EXPECT_EQ(posd_->WaitForExit(30s), 0) << posd_->Stderr();
    }
    if (sim_) {
      sim_->Signal(SIGTERM);
      sim_->WaitForExit(10s);
    }
  }

  CommandResult Posctl(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), {POSCTL_BINARY, "--address", paths_.address()});
    return RunCommand(args, timeout);
  }

  bool WaitForState(std::string_view id, std::string_view state, std::string_view reason = "") {
    return WaitUntil(
        [&] {
          const CommandResult shown = Posctl({"-o", "json", "devices", "show", std::string(id)});
          return shown.exit_code == 0 && shown.out.find(state) != std::string::npos &&
                 shown.out.find(reason) != std::string::npos;
        },
        45s);
  }

  std::vector<std::string> LedgerLines(const std::string& transaction_id) {
    return testing::LedgerJsonLines(POSD_TERMSIM_BINARY, ledger_, transaction_id);
  }

  posd::testing::TempDir dir_;
  testing::PosdPaths paths_{dir_.path()};
  std::filesystem::path link_;
  std::filesystem::path ledger_;
  std::optional<Subprocess> sim_;
  std::optional<Subprocess> posd_;
};

TEST_F(DevicesIntegrationTest, TheConfiguredTerminalIsReadyInDevicesList) {
  ASSERT_TRUE(WaitForState("counter-1", "DEVICE_STATE_READY")) << posd_->Stderr();
  const CommandResult list = Posctl({"devices", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, ::testing::ContainsRegex("counter-1 +Counter 1 +READY"));
  const CommandResult shown = Posctl({"-o", "json", "devices", "show", "counter-1"});
  EXPECT_THAT(shown.out, HasSubstr("\"origin\": \"DEVICE_ORIGIN_CONFIG\""));
  EXPECT_THAT(shown.out, HasSubstr("\"model\": \"posd termsim\""));
  EXPECT_THAT(shown.out, HasSubstr("\"handshakes\": \"1\""));
}

TEST_F(DevicesIntegrationTest, ASaleRoundTripChargesOnceAndIsTraced) {
  ASSERT_TRUE(WaitForState("counter-1", "DEVICE_STATE_READY")) << posd_->Stderr();
  Subprocess trace = Subprocess::Start({POSCTL_BINARY, "--address", paths_.address(), "devices",
                                        "trace", "counter-1", "--duration", "60s"},
                                       dir_.File("trace"));
  // The trace is live once it shows the next heartbeat exchange.
  ASSERT_TRUE(WaitUntil([&] { return trace.Stdout().find("heartbeat") != std::string::npos; }, 45s))
      << trace.Stderr();

  const CommandResult paid = Posctl({"pay", "--amount", "12.50", "--device", "counter-1"}, 60s);
  ASSERT_EQ(paid.exit_code, 0) << paid.out << paid.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(paid.out, match, std::regex("pay_[0-9A-Z]+"))) << paid.out;
  const std::string payment = match.str();
  EXPECT_THAT(paid.out, HasSubstr("APPROVED"));

  // The terminal's ledger: exactly one transaction with that id, approved.
  const auto lines = LedgerLines(payment);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("OUTCOME_APPROVED"));
  EXPECT_THAT(lines[0], HasSubstr("\"amount_minor\":\"1250\""));

  // The trace shows the round trip: the sale out, progress and result in,
  // frames and acknowledgements with their sequence numbers.
  ASSERT_TRUE(WaitUntil([&] { return trace.Stdout().find("result tx=" + payment) != std::string::npos; },
                        45s))
      << trace.Stdout();
  trace.Signal(SIGTERM);
  trace.WaitForExit(10s);
  const std::string traced = trace.Stdout();
  EXPECT_THAT(traced, ::testing::ContainsRegex("-> MESSAGE +sale +id=[0-9]+ tx=" + payment));
  EXPECT_THAT(traced, ::testing::ContainsRegex("<- MESSAGE +progress .*tx=" + payment));
  EXPECT_THAT(traced, ::testing::ContainsRegex("<- MESSAGE +result +id=[0-9]+ re=[0-9]+ tx=" +
                                               payment + " [0-9]+B [0-9.]+ms"));
  EXPECT_THAT(traced, ::testing::ContainsRegex("-> FRAME +DATA +seq=[0-9]+"));
  EXPECT_THAT(traced, ::testing::ContainsRegex("<- FRAME +ACK +seq=[0-9]+"));
  EXPECT_THAT(traced, HasSubstr("OUTCOME_APPROVED VISA 12.50 EUR"));
  // No full card number ever: the PAN is not even in the summary.
  EXPECT_THAT(traced, ::testing::Not(HasSubstr("4111111111111111")));

  // The flight recorder kept it too, from the handshake on.
  const auto dump_file = dir_.File("counter-1.trace");
  const CommandResult dumped = Posctl({"devices", "dump", "counter-1", "--file", dump_file.string()});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_THAT(dumped.out, HasSubstr("entries of device counter-1"));
  const std::string dump = ReadFile(dump_file);
  EXPECT_THAT(dump, HasSubstr("# flight recorder of device counter-1"));
  EXPECT_THAT(dump, HasSubstr("LINK    OPEN"));
  EXPECT_THAT(dump, HasSubstr("HANDSHAKE"));
  EXPECT_THAT(dump, HasSubstr("sale tx=" + payment));
  EXPECT_THAT(dump, HasSubstr("result tx=" + payment));

  const CommandResult shown = Posctl({"-o", "json", "devices", "show", "counter-1"});
  EXPECT_THAT(shown.out, HasSubstr("\"state\": \"DEVICE_STATE_READY\""));
  EXPECT_THAT(shown.out, HasSubstr("\"messages_sent\""));
}

TEST_F(DevicesIntegrationTest, TraceStreamsEndPromptlyWhenPosdStops) {
  // A long grace period: if trace streams held up the drain, posd would take
  // that long to stop.
  posd_->Signal(SIGTERM);
  ASSERT_EQ(posd_->WaitForExit(30s), 0);
  {
    std::ofstream config(paths_.config, std::ios::trunc);
    config << "server:\n  unix_socket: " << paths_.socket.string()
           << "\n  shutdown_grace_ms: 30000\nstorage:\n  database_path: "
           << paths_.database.string() << "\ndevices:\n  - id: counter-1\n    serial:\n"
           << "      port: " << link_.string() << "\n"
           << "discovery:\n  dns_sd: false\n  beacon_listen: \"\"\n";
  }
  posd_.emplace(testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd2")));
  ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
  ASSERT_TRUE(WaitForState("counter-1", "DEVICE_STATE_READY"));
  Subprocess first = Subprocess::Start({POSCTL_BINARY, "--address", paths_.address(), "devices",
                                        "trace", "counter-1"},
                                       dir_.File("trace"));
  Subprocess second = Subprocess::Start({POSCTL_BINARY, "--address", paths_.address(), "devices",
                                         "trace", "counter-1", "--kinds", "message"},
                                        dir_.File("posd"));
  ASSERT_TRUE(WaitUntil([&] { return first.Stdout().find("heartbeat") != std::string::npos; }, 45s));
  ASSERT_TRUE(
      WaitUntil([&] { return second.Stdout().find("heartbeat") != std::string::npos; }, 45s));
  // One link however many watch: still one handshake.
  EXPECT_THAT(Posctl({"-o", "json", "devices", "show", "counter-1"}).out,
              HasSubstr("\"handshakes\": \"1\""));
  EXPECT_THAT(second.Stdout(), ::testing::Not(HasSubstr("FRAME")));  // kinds filter

  posd_->Signal(SIGTERM);
  EXPECT_EQ(posd_->WaitForExit(15s), 0) << posd_->Stderr();
  posd_.reset();
  // The watchers hear that posd is shutting down (UNAVAILABLE: 64 + 14).
  EXPECT_EQ(first.WaitForExit(10s), 64 + 14) << first.Stderr();
  EXPECT_THAT(first.Stderr(), HasSubstr("shutting down"));
  EXPECT_EQ(second.WaitForExit(10s), 64 + 14);
}

TEST_F(DevicesIntegrationTest, ATerminalIsNotForgottenWhileAPaymentOnItIsInDoubt) {
  // A second terminal, added through the API, that crashes after charging.
  const auto link = dir_.File("back-office.pty");
  const auto ledger = dir_.File("back-office-ledger");
  std::filesystem::create_directories(dir_.File("sim2"));
  std::filesystem::create_directories(dir_.File("sim3"));
  std::filesystem::create_directories(dir_.File("pay"));
  std::optional<Subprocess> sim(Subprocess::Start(
      {POSD_TERMSIM_BINARY, "--pty", "--link", link.string(), "--ledger", ledger.string(),
       "--step-ms", "20", "--fault", "crash-after-charge:once"},
      dir_.File("sim2")));
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(link); }, 45s));
  const CommandResult added =
      Posctl({"devices", "add", "--id", "back-office", "--port", link.string()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  ASSERT_TRUE(WaitForState("back-office", "DEVICE_STATE_READY"));

  Subprocess pay = Subprocess::Start({POSCTL_BINARY, "--address", paths_.address(), "pay",
                                      "--amount", "5.00", "--device", "back-office"},
                                     dir_.File("pay"));
  ASSERT_TRUE(sim->WaitForExit(30s).has_value()) << "the simulator should crash after charging";
  std::string payment;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string out = pay.Stdout();
        std::smatch match;
        if (!std::regex_search(out, match, std::regex("pay_[0-9A-Z]+"))) return false;
        payment = match.str();
        return true;
      },
      10s));

  // FAILED_PRECONDITION (9): its outcome can only come from this terminal.
  const CommandResult refused = Posctl({"devices", "remove", "back-office"});
  EXPECT_EQ(refused.exit_code, 64 + 9) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("back-office has"));

  // The terminal comes back; posd asks it and learns the charge.
  sim.reset();
  sim.emplace(Subprocess::Start({POSD_TERMSIM_BINARY, "--pty", "--link", link.string(),
                                 "--ledger", ledger.string(), "--step-ms", "20"},
                                dir_.File("sim3")));
  EXPECT_EQ(pay.WaitForExit(60s), 0) << pay.Stdout() << pay.Stderr();
  EXPECT_THAT(pay.Stdout(), HasSubstr("APPROVED"));
  const CommandResult ledger_lines = RunCommand({POSD_TERMSIM_BINARY, "ledger", ledger.string()});
  EXPECT_EQ(std::count(ledger_lines.out.begin(), ledger_lines.out.end(), '\n'), 1)
      << ledger_lines.out;
  EXPECT_THAT(ledger_lines.out, HasSubstr(payment));
  // Settled: now it may go.
  EXPECT_TRUE(WaitUntil([&] { return Posctl({"devices", "remove", "back-office"}).exit_code == 0; },
                        45s));
  sim->Signal(SIGTERM);
  sim->WaitForExit(10s);
}

TEST_F(DevicesIntegrationTest, DevicesAddedAndRemovedThroughTheApi) {
  const CommandResult added = Posctl({"devices", "add", "--id", "spare", "--name", "Spare",
                                      "--port", dir_.File("no-such-tty").string(), "--baud",
                                      "9600"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  // Nothing on that port: posd says so, and keeps trying.
  EXPECT_TRUE(WaitForState("spare", "DEVICE_STATE_DISCONNECTED", "DEVICE_STATE_REASON_PORT_MISSING"));
  // The same id twice is refused (ALREADY_EXISTS = 6).
  const CommandResult again = Posctl({"devices", "add", "--id", "spare", "--port", "/dev/ttyS9"});
  EXPECT_EQ(again.exit_code, 64 + 6) << again.err;
  // A configured device cannot be removed through the API (FAILED_PRECONDITION = 9).
  const CommandResult configured = Posctl({"devices", "remove", "counter-1"});
  EXPECT_EQ(configured.exit_code, 64 + 9);
  EXPECT_THAT(configured.err, HasSubstr("configuration file"));

  const CommandResult removed = Posctl({"devices", "remove", "spare", "--reason", "test"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  const CommandResult gone = Posctl({"devices", "show", "spare"});
  EXPECT_EQ(gone.exit_code, 64 + 5);  // NOT_FOUND

  // A registered device survives a restart of posd.
  const CommandResult kept = Posctl({"devices", "add", "--id", "kept", "--port",
                                     dir_.File("other-tty").string()});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  posd_->Signal(SIGTERM);
  ASSERT_EQ(posd_->WaitForExit(30s), 0) << posd_->Stderr();
  posd_.emplace(testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd2")));
  ASSERT_TRUE(posd_->Running());
  const CommandResult list = Posctl({"devices", "list"});
  EXPECT_THAT(list.out, HasSubstr("kept"));
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr("spare")));
  EXPECT_TRUE(WaitForState("counter-1", "DEVICE_STATE_READY"));
}

}  // namespace
}  // namespace posd
