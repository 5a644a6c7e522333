// posd with a Wi-Fi terminal: the real posd, posctl and posd-termsim
// binaries, the terminal serving WebSocket on 127.0.0.1.
#include <signal.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
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
using testing::CommandResult;
using testing::RunCommand;
using testing::Subprocess;
using testing::WaitUntil;

class WebSocketDevicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* logs : {"sim1", "sim2", "sim3", "posd", "pay"}) {
      std::filesystem::create_directories(dir_.File(logs));
    }
    ledger_ = dir_.File("terminal-ledger");
    StartSimulator("127.0.0.1:0", "sim1");
    ASSERT_NE(port_, 0);
    testing::WritePosdConfig(
        paths_, "websocket:\n  ping_interval_ms: 250\n  dead_peer_timeout_ms: 1500\n"
                "devices:\n  - id: wifi-1\n    name: Wi-Fi 1\n    websocket:\n"
                "      address: 127.0.0.1:" +
                    std::to_string(port_) + "\n");
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

  // Starts the simulator serving WebSocket on `listen` ("127.0.0.1:0" picks
  // a port) and learns its port from the "WEBSOCKET" line.
  void StartSimulator(const std::string& listen, const std::string& logs,
                      std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {POSD_TERMSIM_BINARY, "--websocket",  listen,
                                     "--device-id",       "wifi-1",       "--ledger",
                                     ledger_.string(),    "--step-ms",    "20"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    sim_.emplace(Subprocess::Start(argv, dir_.File(logs)));
    std::string line;
    ASSERT_TRUE(WaitUntil(
        [&] {
          const std::string out = sim_->Stdout();
          const size_t at = out.find("WEBSOCKET 127.0.0.1:");
          if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
          port_ = std::stoi(out.substr(at + 20, out.find('\n', at) - at - 20));
          return true;
        },
        45s))
        << sim_->Stdout() << sim_->Stderr();
  }

  CommandResult Posctl(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), {POSCTL_BINARY, "--address", paths_.address()});
    return RunCommand(args, timeout);
  }

  std::string Show() { return Posctl({"-o", "json", "devices", "show", "wifi-1"}).out; }

  bool WaitForState(std::string_view state, std::string_view more = "") {
    return WaitUntil(
        [&] {
          const std::string shown = Show();
          return shown.find(state) != std::string::npos && shown.find(more) != std::string::npos;
        },
        45s);
  }

  std::vector<std::string> LedgerLines(const std::string& transaction_id) {
    return testing::LedgerJsonLines(POSD_TERMSIM_BINARY, ledger_, transaction_id);
  }

  posd::testing::TempDir dir_;
  testing::PosdPaths paths_{dir_.path()};
  std::filesystem::path ledger_;
  int port_ = 0;
  std::optional<Subprocess> sim_;
  std::optional<Subprocess> posd_;
};

TEST_F(WebSocketDevicesTest, TheTerminalIsReadyAndASaleIsChargedOnce) {
  ASSERT_TRUE(WaitForState("DEVICE_STATE_READY")) << Show() << posd_->Stderr();
  const std::string shown = Show();
  EXPECT_THAT(shown, HasSubstr("\"terminal_id\": \"wifi-1\""));
  EXPECT_THAT(shown, HasSubstr("\"port\": " + std::to_string(port_)));
  EXPECT_THAT(shown, HasSubstr("\"model\": \"posd termsim\""));

  // An operator watching the terminal sees it go busy with the sale and
  // come back, in words.
  Subprocess watcher = Subprocess::Start({POSCTL_BINARY, "--address", paths_.address(), "events",
                                          "watch", "--kind", "device_changed", "--limit", "2"},
                                         dir_.File("pay"));
  // Device changes are not stored for replay: give the watcher a moment to
  // subscribe (it needs milliseconds) before the sale starts.
  std::this_thread::sleep_for(1s);
  const CommandResult paid = Posctl({"pay", "--amount", "12.50", "--device", "wifi-1"}, 60s);
  ASSERT_EQ(paid.exit_code, 0) << paid.out << paid.err;
  EXPECT_THAT(paid.out, HasSubstr("APPROVED"));
  EXPECT_EQ(watcher.WaitForExit(30s), 0) << watcher.Stdout() << watcher.Stderr();
  EXPECT_THAT(watcher.Stdout(), HasSubstr("DEVICE_CHANGED  wifi-1  BUSY"));
  EXPECT_THAT(watcher.Stdout(), HasSubstr("DEVICE_CHANGED  wifi-1  READY"));
  const std::string payment = testing::PaymentIdIn(paid.out);
  ASSERT_FALSE(payment.empty()) << paid.out;
  const auto lines = LedgerLines(payment);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("OUTCOME_APPROVED"));
  EXPECT_THAT(lines[0], HasSubstr("\"amount_minor\":\"1250\""));

  // The flight recorder saw the WebSocket connection and the messages.
  const auto dump_file = dir_.File("wifi-1.trace");
  ASSERT_EQ(Posctl({"devices", "dump", "wifi-1", "--file", dump_file.string()}).exit_code, 0);
  std::ifstream dump(dump_file);
  std::stringstream text;
  text << dump.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("connected to ws://127.0.0.1:" + std::to_string(port_)));
  EXPECT_THAT(text.str(), HasSubstr("sale tx=" + payment));
}

TEST_F(WebSocketDevicesTest, ASimulatorCrashMidSaleIsResolvedAfterItRestartsOnTheSamePort) {
  ASSERT_TRUE(WaitForState("DEVICE_STATE_READY")) << Show() << posd_->Stderr();
  const int port = port_;

  // The terminal dies while idle (SIGKILL: no close, the socket just goes);
  // posd notices and keeps trying the same address.
  sim_->Signal(SIGKILL);
  sim_->WaitForExit(10s);
  ASSERT_TRUE(WaitForState("DEVICE_STATE_DISCONNECTED", "CONNECT_FAILED")) << Show();

  // It comes back on the same port, armed to crash after its next charge
  // and before answering.
  StartSimulator("127.0.0.1:" + std::to_string(port), "sim2", {"--fault", "crash-after-charge:once"});
  ASSERT_EQ(port_, port);
  ASSERT_TRUE(WaitForState("DEVICE_STATE_READY", "\"handshakes\": \"2\"")) << Show();

  Subprocess pay = Subprocess::Start({POSCTL_BINARY, "--address", paths_.address(), "pay",
                                      "--amount", "30.00", "--device", "wifi-1"},
                                     dir_.File("pay"));
  ASSERT_TRUE(sim_->WaitForExit(45s).has_value()) << "the simulator should have crashed";
  std::string payment;
  ASSERT_TRUE(WaitUntil([&] { return !(payment = testing::PaymentIdIn(pay.Stdout())).empty(); }, 10s));
  // Charged, and the answer lost with the crash: the ledger has it, posd
  // does not know yet.
  ASSERT_EQ(LedgerLines(payment).size(), 1u);
  EXPECT_THAT(LedgerLines(payment)[0], HasSubstr("OUTCOME_APPROVED"));
  EXPECT_TRUE(pay.Running());

  StartSimulator("127.0.0.1:" + std::to_string(port), "sim3");
  ASSERT_EQ(port_, port);
  // The channel asks for the sale's status after the handshake; the payment
  // ends APPROVED, with the single charge the ledger holds.
  ASSERT_EQ(pay.WaitForExit(60s), 0) << pay.Stdout() << pay.Stderr();
  EXPECT_THAT(pay.Stdout(), HasSubstr("APPROVED"));
  const auto lines = LedgerLines(payment);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("OUTCOME_APPROVED"));
  EXPECT_THAT(lines[0], HasSubstr("\"amount_minor\":\"3000\""));
  const CommandResult shown = Posctl({"-o", "json", "payments", "show", payment});
  EXPECT_THAT(shown.out, HasSubstr("PAYMENT_STATUS_APPROVED"));
  ASSERT_TRUE(WaitForState("DEVICE_STATE_READY")) << Show();
}

}  // namespace
}  // namespace posd
