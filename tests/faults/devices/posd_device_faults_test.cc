// Every fault of the terminal simulator against the real posd: posd, posctl
// and posd-termsim as separate processes, the terminal on a pseudo-terminal,
// payments taken with `posctl pay` as a till would. posd's protocol timers
// are shortened through its configuration (`terminals:`), so each fault
// resolves in seconds instead of the two minutes a card payment may take.
//
// After each fault: the simulator's ledger, counted record by record, shows
// every transaction id charged at most once; every payment reached a final
// status that agrees with the ledger (APPROVED exactly when it was charged),
// learned from the terminal's result or from a status query, never guessed;
// and `posctl devices show` says what happened to the terminal.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "posd/v1/devices.pb.h"
#include "posd/v1/payments.pb.h"
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

// Timers short enough for a test, long enough for ASan on a busy machine.
constexpr char kTerminalTimers[] = R"(terminals:
  heartbeat_interval_ms: 400
  heartbeat_max_missed: 3
  accept_timeout_ms: 2000
  transaction_timeout_ms: 3000
  status_query_timeout_ms: 1000
  status_query_retry_ms: 500
  handshake_timeout_ms: 2000
  handshake_retry_initial_ms: 200
  handshake_retry_max_ms: 1000
  port_reopen_max_ms: 500
)";

template <typename Message>
std::optional<Message> FromJson(const std::string& json) {
  Message message;
  if (!google::protobuf::util::JsonStringToMessage(json, &message).ok()) return std::nullopt;
  return message;
}

// A `posctl pay` running in the background: it follows its payment until
// the payment is final and exits 0 (approved) or 1 (declined, failed, ...).
struct Payment {
  Subprocess posctl;
  std::string id;
};

class PosdDeviceFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* logs : {"posd", "pay"}) std::filesystem::create_directories(dir_.File(logs));
    sim_options_.link = dir_.File("terminal.pty");
    sim_options_.ledger = dir_.File("terminal-ledger");
    sim_options_.control = dir_.File("terminal.sock");
  }

  void TearDown() override {
    if (posd_) {
      posd_->Signal(SIGTERM);
      EXPECT_EQ(posd_->WaitForExit(30s), 0) << posd_->Stderr();
    }
    StopSimulator();
    if (HasFailure() && posd_) ADD_FAILURE() << "posd's log:\n" << posd_->Stderr();
  }

  // Starts the simulator (again, on the same line name and ledger).
  void StartSimulator(std::vector<std::string> faults = {}) {
    sim_options_.faults = std::move(faults);
    const auto logs = dir_.File("sim" + std::to_string(++sim_runs_));
    std::filesystem::create_directories(logs);
    sim_.emplace(testing::StartTermsim(POSD_TERMSIM_BINARY, sim_options_, logs));
    ASSERT_TRUE(sim_->Running()) << sim_->Stderr();
  }

  void StopSimulator() {
    if (sim_ && sim_->Running()) {
      sim_->Signal(SIGTERM);
      sim_->WaitForExit(10s);
    }
    sim_.reset();
  }

  // posd with the terminal as device counter-1, READY.
  void StartPosdWithTerminal() {
    testing::WritePosdConfig(paths_, "devices:\n  - id: counter-1\n    serial:\n      port: " +
                                         sim_options_.link.string() + "\n" + kTerminalTimers);
    posd_.emplace(testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd")));
    ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
    ASSERT_TRUE(WaitForDevice([](const v1::Device& d) {
      return d.state() == v1::DEVICE_STATE_READY;
    })) << Device().DebugString();
  }

  CommandResult Posctl(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), {POSCTL_BINARY, "--address", paths_.address()});
    return RunCommand(args, timeout);
  }

  // counter-1 as `posctl devices show --output json` prints it.
  v1::Device Device() {
    const CommandResult shown = Posctl({"--output", "json", "devices", "show", "counter-1"});
    if (shown.exit_code != 0) return {};
    return FromJson<v1::Device>(shown.out).value_or(v1::Device{});
  }

  template <typename Condition>
  bool WaitForDevice(Condition condition, std::chrono::milliseconds timeout = 45s) {
    return WaitUntil([&] { return condition(Device()); }, timeout);
  }

  std::optional<v1::Payment> ShowPayment(const std::string& id) {
    const CommandResult shown = Posctl({"--output", "json", "payments", "show", id});
    if (shown.exit_code != 0) return std::nullopt;
    return FromJson<v1::Payment>(shown.out);
  }

  // `posctl pay --amount AMOUNT` on counter-1, in the background; returns
  // once posd has created the payment.
  Payment Pay(const std::string& amount) {
    Subprocess posctl = Subprocess::Start({POSCTL_BINARY, "--address", paths_.address(), "pay",
                                           "--amount", amount, "--device", "counter-1"},
                                          dir_.File("pay"));
    std::string id;
    WaitUntil(
        [&] {
          const std::string out = posctl.Stdout();
          const auto at = out.find("pay_");
          if (at == std::string::npos) return !posctl.Running();
          auto end = at + 4;
          while (end < out.size() && std::isalnum(static_cast<unsigned char>(out[end]))) ++end;
          if (end == out.size()) return false;  // the id may still be being written
          id = out.substr(at, end - at);
          return true;
        },
        30s);
    EXPECT_FALSE(id.empty()) << "pay printed no payment: " << posctl.Stdout() << posctl.Stderr();
    return Payment{std::move(posctl), id};
  }

  // Waits for `pay` to report its final status; posctl's exit code.
  std::optional<int> Finish(Payment& pay, std::chrono::milliseconds timeout = 60s) {
    auto code = pay.posctl.WaitForExit(timeout);
    EXPECT_TRUE(code.has_value()) << pay.id << " not final after " << timeout.count() << " ms: "
                                  << pay.posctl.Stdout() << ShowPayment(pay.id)->DebugString();
    return code;
  }

  // The ledger's word against posd's, for every payment: at most one
  // Started and at most one charge per transaction id, and a final status
  // that agrees (APPROVED exactly when charged; DECLINED when the terminal
  // declined; FAILED when it never started it).
  void ExpectSettledAndChargedAtMostOnce(const std::vector<std::string>& ids) {
    auto tallies = testing::ReadLedgerTallies(sim_options_.ledger);
    ASSERT_TRUE(tallies.ok()) << tallies.status();
    for (const std::string& id : ids) {
      SCOPED_TRACE(id);
      const auto payment = ShowPayment(id);
      ASSERT_TRUE(payment.has_value());
      const auto found = tallies->find(id);
      const testing::LedgerTally tally =
          found == tallies->end() ? testing::LedgerTally{} : found->second;
      EXPECT_LE(tally.started, 1) << "the terminal started the transaction twice";
      EXPECT_LE(tally.approved, 1) << "charged more than once";
      EXPECT_LE(tally.finished, 1);
      const v1::PaymentStatus status = payment->status();
      EXPECT_EQ(status == v1::PAYMENT_STATUS_APPROVED, tally.approved == 1)
          << v1::PaymentStatus_Name(status) << " but the ledger says "
          << (tally.outcome.empty() ? "nothing" : tally.outcome);
      if (tally.outcome == "OUTCOME_DECLINED") {
        EXPECT_EQ(status, v1::PAYMENT_STATUS_DECLINED);
      }
      if (tally.started == 0) {
        EXPECT_EQ(status, v1::PAYMENT_STATUS_FAILED);
      }
      EXPECT_NE(status, v1::PAYMENT_STATUS_IN_DOUBT);
      EXPECT_NE(status, v1::PAYMENT_STATUS_AUTHORIZING);
    }
  }

  // Whether the flight recorder of counter-1 holds a line with `text`.
  bool RecorderHas(const std::string& text) {
    const auto file = dir_.File("counter-1.dump");
    const CommandResult dumped = Posctl({"devices", "dump", "counter-1", "--file", file.string()});
    if (dumped.exit_code != 0) return false;
    std::ifstream in(file);
    std::stringstream content;
    content << in.rdbuf();
    return content.str().find(text) != std::string::npos;
  }

  testing::TempDir dir_;
  testing::PosdPaths paths_{dir_.path()};
  testing::TermsimOptions sim_options_;
  std::optional<Subprocess> sim_;
  std::optional<Subprocess> posd_;
  int sim_runs_ = 0;
};

TEST_F(PosdDeviceFaultsTest, ASaleRoundTripIsChargedOnce) {
  StartSimulator();
  StartPosdWithTerminal();
  // One terminal takes one payment at a time: the second sale starts once
  // the first is final (started while the first runs, it is refused BUSY,
  // which is what this test used to stumble on in the optimised build, where
  // posctl starts fast enough to catch the first sale still running).
  Payment approved = Pay("12.50");
  EXPECT_EQ(Finish(approved), 0) << approved.posctl.Stdout();
  Payment declined = Pay("7.51");  // the simulator's rule: insufficient funds
  EXPECT_EQ(Finish(declined), 1) << declined.posctl.Stdout();
  EXPECT_THAT(approved.posctl.Stdout(), HasSubstr("APPROVED"));
  EXPECT_THAT(declined.posctl.Stdout(), HasSubstr("DECLINED"));
  ExpectSettledAndChargedAtMostOnce({approved.id, declined.id});
  const v1::Device device = Device();
  EXPECT_EQ(device.state(), v1::DEVICE_STATE_READY);
  EXPECT_EQ(device.link_stats().handshakes(), 1u);
}

TEST_F(PosdDeviceFaultsTest, ApprovedButNeverAnsweredIsLearnedByAStatusQuery) {
  StartSimulator({"approve-no-answer:once"});
  StartPosdWithTerminal();
  Payment silent = Pay("20.00");
  // The terminal charged and stays silent: posd asks after its (shortened)
  // transaction timeout and learns the charge from the remembered result.
  EXPECT_EQ(Finish(silent), 0) << silent.posctl.Stdout();
  EXPECT_TRUE(RecorderHas("status query tx=" + silent.id));
  EXPECT_TRUE(RecorderHas("status reply tx=" + silent.id));
  Payment after = Pay("3.00");
  EXPECT_EQ(Finish(after), 0) << after.posctl.Stdout();
  ExpectSettledAndChargedAtMostOnce({silent.id, after.id});
  // Nothing was wrong with the line: the terminal stayed linked.
  const v1::Device device = Device();
  EXPECT_EQ(device.state(), v1::DEVICE_STATE_READY);
  EXPECT_EQ(device.link_stats().handshakes(), 1u);
  EXPECT_EQ(device.link_stats().link_downs(), 0u);
}

TEST_F(PosdDeviceFaultsTest, CrashAfterChargingIsLearnedWhenTheTerminalComesBack) {
  StartSimulator({"crash-after-charge:once"});
  StartPosdWithTerminal();
  Payment crashed = Pay("30.00");
  ASSERT_EQ(sim_->WaitForExit(30s), 3) << "the simulator should crash after charging";
  // The terminal is gone and posd says so; the payment is in doubt, not
  // guessed either way.
  EXPECT_TRUE(WaitForDevice([](const v1::Device& d) {
    return d.state() == v1::DEVICE_STATE_DISCONNECTED &&
           (d.state_reason() == v1::DEVICE_STATE_REASON_PORT_MISSING ||
            d.state_reason() == v1::DEVICE_STATE_REASON_LINK_DOWN ||
            d.state_reason() == v1::DEVICE_STATE_REASON_HEARTBEAT_LOST);
  })) << Device().DebugString();
  EXPECT_TRUE(WaitUntil(
      [&] {
        const auto payment = ShowPayment(crashed.id);
        return payment && payment->status() == v1::PAYMENT_STATUS_IN_DOUBT;
      },
      30s))
      << ShowPayment(crashed.id)->DebugString();
  EXPECT_TRUE(crashed.posctl.Running()) << "pay ended before the outcome was known";
  // A new payment on a terminal that is not there is refused at once.
  const CommandResult refused =
      Posctl({"pay", "--amount", "1.00", "--device", "counter-1"}, 30s);
  EXPECT_NE(refused.exit_code, 0) << refused.out;

  // The shop restarts the terminal on the same line and ledger: posd asks
  // it about the payment and learns the charge.
  StartSimulator();
  EXPECT_EQ(Finish(crashed), 0) << crashed.posctl.Stdout();
  EXPECT_TRUE(WaitForDevice([](const v1::Device& d) {
    return d.state() == v1::DEVICE_STATE_READY;
  })) << Device().DebugString();
  Payment after = Pay("4.00");
  EXPECT_EQ(Finish(after), 0) << after.posctl.Stdout();
  ExpectSettledAndChargedAtMostOnce({crashed.id, after.id});
  EXPECT_GE(Device().link_stats().handshakes(), 2u);
}

TEST_F(PosdDeviceFaultsTest, PowerLossComesBackWithANewEpoch) {
  StartSimulator({"power-loss:once"});
  StartPosdWithTerminal();
  Payment lost = Pay("40.00");
  EXPECT_EQ(Finish(lost), 0) << lost.posctl.Stdout();
  EXPECT_TRUE(WaitForDevice([](const v1::Device& d) {
    return d.state() == v1::DEVICE_STATE_READY;
  })) << Device().DebugString();
  const v1::Device device = Device();
  EXPECT_GE(device.link_stats().handshakes(), 2u);
  EXPECT_EQ(device.link_stats().last_link_down_reason(), v1::DEVICE_STATE_REASON_EPOCH_CHANGE)
      << device.DebugString();
  Payment after = Pay("5.00");
  EXPECT_EQ(Finish(after), 0) << after.posctl.Stdout();
  ExpectSettledAndChargedAtMostOnce({lost.id, after.id});
}

TEST_F(PosdDeviceFaultsTest, GarbageOnTheLineIsSkippedAndNothingIsLost) {
  StartSimulator();
  StartPosdWithTerminal();
  // Noise at every transaction start and heartbeat, plus bursts on demand.
  EXPECT_THAT(testing::TermsimControl(sim_options_.control, "fault garbage always"),
              ::testing::StartsWith("OK"));
  std::vector<std::string> ids;
  for (const char* amount : {"10.00", "10.01", "10.51"}) {
    EXPECT_THAT(testing::TermsimControl(sim_options_.control, "garbage 300"),
                ::testing::StartsWith("OK"));
    Payment pay = Pay(amount);
    EXPECT_THAT(testing::TermsimControl(sim_options_.control, "garbage 300"),
                ::testing::StartsWith("OK"));
    EXPECT_TRUE(Finish(pay).has_value());
    ids.push_back(pay.id);
  }
  EXPECT_THAT(testing::TermsimControl(sim_options_.control, "fault garbage off"),
              ::testing::StartsWith("OK"));
  ExpectSettledAndChargedAtMostOnce(ids);
  EXPECT_EQ(ShowPayment(ids[2])->status(), v1::PAYMENT_STATUS_DECLINED);
  EXPECT_TRUE(WaitForDevice([](const v1::Device& d) {
    return d.state() == v1::DEVICE_STATE_READY;
  })) << Device().DebugString();
  EXPECT_GE(Device().link_stats().crc_errors() + Device().link_stats().resyncs(), 1u)
      << Device().DebugString();
  EXPECT_TRUE(RecorderHas("BAD_FRAME"));
}

TEST_F(PosdDeviceFaultsTest, UnansweredHeartbeatsAreReportedAndAPaymentSurvivesThem) {
  sim_options_.slow_ms = 5000;
  StartSimulator();
  StartPosdWithTerminal();
  // A slow payment (amount ending in 53) under way when the terminal stops
  // answering heartbeats: the link is declared lost under it, again and
  // again, and the payment must still end with the terminal's word.
  // Every UI hears of each state change (the terminal answers the next
  // handshake at once, so the lost state is too brief to poll).
  Subprocess changes = Subprocess::Start(
      {POSCTL_BINARY, "--address", paths_.address(), "--output", "json", "events", "watch",
       "--kind", "device_changed", "--device", "counter-1"},
      dir_.File("pay"));
  Payment slow = Pay("8.53");
  ASSERT_TRUE(WaitForDevice([](const v1::Device& d) {
    return d.state() == v1::DEVICE_STATE_BUSY;
  })) << Device().DebugString();
  EXPECT_THAT(testing::TermsimControl(sim_options_.control, "fault no-heartbeat always"),
              ::testing::StartsWith("OK"));
  // Lost, and said why: HEARTBEAT_LOST, never an anonymous LINK_DOWN.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return changes.Stdout().find(
                   "\"state_reason\": \"DEVICE_STATE_REASON_HEARTBEAT_LOST\"") !=
               std::string::npos;
      },
      45s))
      << changes.Stdout() << changes.Stderr();
  EXPECT_TRUE(WaitForDevice([](const v1::Device& d) {
    return d.link_stats().last_link_down_reason() == v1::DEVICE_STATE_REASON_HEARTBEAT_LOST;
  })) << Device().DebugString();
  EXPECT_THAT(testing::TermsimControl(sim_options_.control, "fault no-heartbeat off"),
              ::testing::StartsWith("OK"));
  EXPECT_EQ(Finish(slow), 0) << slow.posctl.Stdout();
  EXPECT_TRUE(WaitForDevice([](const v1::Device& d) {
    return d.state() == v1::DEVICE_STATE_READY;
  })) << Device().DebugString();
  // Every loss counted once, under its reason: the reset posd made after
  // the heartbeats is not a second, anonymous LINK_DOWN.
  const v1::Device device = Device();
  EXPECT_GE(device.link_stats().heartbeats_missed(), 3u);
  EXPECT_EQ(device.link_stats().last_link_down_reason(), v1::DEVICE_STATE_REASON_HEARTBEAT_LOST);
  for (const auto& count : device.link_stats().link_downs_by_reason()) {
    EXPECT_EQ(count.reason(), v1::DEVICE_STATE_REASON_HEARTBEAT_LOST) << device.DebugString();
  }
  EXPECT_THAT(changes.Stdout(), ::testing::Not(HasSubstr("DEVICE_STATE_REASON_LINK_DOWN")));
  changes.Signal(SIGTERM);
  changes.WaitForExit(10s);
  Payment after = Pay("6.00");
  EXPECT_EQ(Finish(after), 0) << after.posctl.Stdout();
  ExpectSettledAndChargedAtMostOnce({slow.id, after.id});
}

}  // namespace
}  // namespace posd
