// The simulator's faults against posd's device layer: approve but never
// answer, crash after charging and before answering, lose power and come
// back with a new epoch, send garbage, stop answering heartbeats.
//
// The simulator runs as a real process on a pseudo-terminal; the
// DeviceManager runs here exactly as in posd, with protocol timers shortened
// so each fault resolves in seconds. A recording DeviceEvents stands in for
// the engine. After each fault: every transaction id appears at most once in
// the simulator's ledger (charged at most once), every transaction's outcome
// reached the engine's port exactly once and agrees with the ledger, and the
// device's state and reason say what happened.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/devices/device_manager.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/termsim.h"

namespace posd::devices {
namespace {

using namespace std::chrono_literals;
using ::posd::testing::IsOk;
using ::posd::testing::Subprocess;
using ::posd::testing::WaitUntil;

// What the engine would hear, per transaction.
class RecordingEvents final : public engine::DeviceEvents {
 public:
  void OnProgress(const engine::TransactionProgress&) override {}
  void OnResult(const engine::TransactionResult& result) override {
    const std::lock_guard lock(mutex_);
    outcomes_[result.transaction_id].push_back(result.outcome == engine::TransactionOutcome::kApproved
                                                   ? "APPROVED"
                                                   : "NOT_APPROVED");
  }
  void OnStatusReply(const engine::StatusReply& reply) override {
    const std::lock_guard lock(mutex_);
    if (reply.kind == engine::StatusReplyKind::kInProgress) return;
    outcomes_[reply.transaction_id].push_back(
        reply.kind == engine::StatusReplyKind::kNotFound ? "NOT_FOUND"
        : reply.result.outcome == engine::TransactionOutcome::kApproved ? "APPROVED"
                                                                        : "NOT_APPROVED");
  }
  void OnLinkLost(std::string_view, std::string_view) override {
    const std::lock_guard lock(mutex_);
    ++links_lost_;
  }
  void OnDeviceReady(std::string_view) override {
    const std::lock_guard lock(mutex_);
    ++ready_;
  }
  std::vector<std::string> Outcomes(const std::string& id) {
    const std::lock_guard lock(mutex_);
    return outcomes_[id];
  }
  int links_lost() {
    const std::lock_guard lock(mutex_);
    return links_lost_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> outcomes_;
  int links_lost_ = 0;
  int ready_ = 0;
};

class DeviceFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    link_ = dir_.File("terminal.pty");
    ledger_ = dir_.File("ledger");
    control_ = dir_.File("control.sock");
    DeviceManagerOptions options;
    options.channel.heartbeat_interval = 300ms;
    options.channel.accept_timeout = 2s;
    options.channel.transaction_timeout = 2s;
    options.channel.query_timeout = 1s;
    options.channel.query_retry_interval = 500ms;
    options.channel.handshake_timeout = 2s;
    options.channel.handshake_backoff_initial = 200ms;
    options.channel.handshake_backoff_max = 1s;
    options.link.reopen_max = 500ms;
    auto manager = DeviceManager::Create(options);
    ASSERT_THAT(manager.status(), IsOk());
    manager_ = *std::move(manager);
    manager_->SetEvents(&events_);
    // As posd publishes them to every UI (DEVICE_CHANGED events).
    manager_->SetDeviceObserver([this](const posd::v1::Device& device) {
      const std::lock_guard lock(states_mutex_);
      states_.emplace_back(device.state(), device.state_reason());
    });
  }

  bool SawState(State state, Reason reason) {
    const std::lock_guard lock(states_mutex_);
    return std::find(states_.begin(), states_.end(), std::pair{state, reason}) != states_.end();
  }

  void TearDown() override {
    manager_->SetEvents(nullptr);
    manager_->SetDeviceObserver(nullptr);
    manager_->Stop();
    StopSimulator();
  }

  void StartSimulator(const std::vector<std::string>& faults = {}) {
    const testing::TermsimOptions options{
        .link = link_, .ledger = ledger_, .control = control_, .faults = faults};
    const auto logs = dir_.File("sim" + std::to_string(++sim_runs_));
    std::filesystem::create_directories(logs);
    sim_.emplace(testing::StartTermsim(POSD_TERMSIM_BINARY, options, logs));
    ASSERT_TRUE(sim_->Running()) << sim_->Stderr();
  }

  void StopSimulator() {
    if (sim_ && sim_->Running()) {
      sim_->Signal(SIGTERM);
      sim_->WaitForExit(10s);
    }
    sim_.reset();
  }

  void AddDevice() {
    DeviceRecord record;
    record.id = "counter-1";
    record.serial.port = link_.string();
    ASSERT_THAT(manager_->Add(record), IsOk());
  }

  posd::v1::Device Device() { return *manager_->Get("counter-1", /*with_link_stats=*/true); }

  bool WaitForState(State state, std::chrono::milliseconds timeout = 20s) {
    return WaitUntil([&] { return Device().state() == state; }, timeout);
  }

  absl::Status Sale(const std::string& id, int64_t amount = 1250) {
    return manager_->StartSale({.device_id = "counter-1",
                                .transaction_id = id,
                                .amount_minor = amount,
                                .tip_minor = 0,
                                .currency = "EUR"});
  }

  bool WaitForOutcome(const std::string& id, std::chrono::milliseconds timeout = 30s) {
    return WaitUntil([&] { return !events_.Outcomes(id).empty(); }, timeout);
  }

  // The ledger's word on each id, counted record by record: at most one
  // transaction and one charge per id, and the engine heard exactly one
  // outcome that agrees with it.
  void ExpectChargedAtMostOnceAndKnown(const std::vector<std::string>& ids) {
    auto tallies = testing::ReadLedgerTallies(ledger_);
    ASSERT_THAT(tallies.status(), IsOk());
    for (const std::string& id : ids) {
      const auto found = tallies->find(id);
      const testing::LedgerTally tally =
          found == tallies->end() ? testing::LedgerTally{} : found->second;
      EXPECT_LE(tally.started, 1) << id << " started more than once";
      EXPECT_LE(tally.approved, 1) << id << " charged more than once";
      const std::string ledger_outcome = tally.finished == 0   ? "NOT_FOUND"
                                         : tally.approved == 1 ? "APPROVED"
                                                               : "NOT_APPROVED";
      const auto heard = events_.Outcomes(id);
      ASSERT_EQ(heard.size(), 1u) << id << ": the engine must learn its outcome exactly once";
      EXPECT_EQ(heard[0], ledger_outcome) << id;
    }
  }

  posd::testing::TempDir dir_;
  std::filesystem::path link_, ledger_, control_;
  RecordingEvents events_;
  std::unique_ptr<DeviceManager> manager_;
  std::mutex states_mutex_;
  std::vector<std::pair<State, Reason>> states_;  // guarded by states_mutex_
  std::optional<Subprocess> sim_;
  int sim_runs_ = 0;
};

TEST_F(DeviceFaultsTest, ApprovedButNeverAnsweredIsLearnedByAStatusQuery) {
  StartSimulator({"approve-no-answer:once"});
  AddDevice();
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY)) << Device().DebugString();
  ASSERT_THAT(Sale("pay-silent"), IsOk());
  EXPECT_TRUE(WaitForState(posd::v1::DEVICE_STATE_BUSY, 5s));
  ASSERT_TRUE(WaitForOutcome("pay-silent")) << Device().DebugString();
  EXPECT_EQ(events_.Outcomes("pay-silent")[0], "APPROVED");
  // No guess in between: the only outcome is the terminal's, by status query.
  // The next sale is answered normally.
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  ASSERT_THAT(Sale("pay-after"), IsOk());
  ASSERT_TRUE(WaitForOutcome("pay-after"));
  ExpectChargedAtMostOnceAndKnown({"pay-silent", "pay-after"});
  EXPECT_EQ(Device().state(), posd::v1::DEVICE_STATE_READY);
}

TEST_F(DeviceFaultsTest, CrashAfterChargingIsLearnedWhenTheTerminalComesBack) {
  StartSimulator({"crash-after-charge:once"});
  AddDevice();
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  ASSERT_THAT(Sale("pay-crash"), IsOk());
  ASSERT_TRUE(sim_->WaitForExit(20s).has_value()) << "the simulator should have crashed";
  // The terminal is gone: not ready, and the port is missing or the link down.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto d = Device();
        return d.state() != posd::v1::DEVICE_STATE_READY &&
               d.state() != posd::v1::DEVICE_STATE_BUSY &&
               (d.state_reason() == posd::v1::DEVICE_STATE_REASON_PORT_MISSING ||
                d.state_reason() == posd::v1::DEVICE_STATE_REASON_LINK_DOWN ||
                d.state_reason() == posd::v1::DEVICE_STATE_REASON_HEARTBEAT_LOST);
      },
      20s))
      << Device().DebugString();
  EXPECT_THAT(manager_->CheckReady("counter-1"),
              ::posd::testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(events_.Outcomes("pay-crash").empty());  // not known yet, and not guessed
  // The shop restarts the terminal: same line name, same ledger.
  sim_.reset();
  std::filesystem::remove(control_);
  StartSimulator();
  ASSERT_TRUE(WaitForOutcome("pay-crash")) << Device().DebugString();
  EXPECT_EQ(events_.Outcomes("pay-crash")[0], "APPROVED");
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  ExpectChargedAtMostOnceAndKnown({"pay-crash"});
}

TEST_F(DeviceFaultsTest, PowerLossComesBackWithANewEpoch) {
  StartSimulator({"power-loss:once"});
  AddDevice();
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  ASSERT_THAT(Sale("pay-power"), IsOk());
  ASSERT_TRUE(WaitForOutcome("pay-power")) << Device().DebugString();
  EXPECT_EQ(events_.Outcomes("pay-power")[0], "APPROVED");
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  const auto device = Device();
  EXPECT_GE(device.link_stats().handshakes(), 2u);
  EXPECT_EQ(device.link_stats().last_link_down_reason(), posd::v1::DEVICE_STATE_REASON_EPOCH_CHANGE)
      << device.DebugString();
  ASSERT_THAT(Sale("pay-after-power"), IsOk());
  ASSERT_TRUE(WaitForOutcome("pay-after-power"));
  ExpectChargedAtMostOnceAndKnown({"pay-power", "pay-after-power"});
}

TEST_F(DeviceFaultsTest, GarbageOnTheLineIsSkippedAndNothingIsLost) {
  StartSimulator();
  AddDevice();
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(testing::TermsimControl(control_, "garbage 300"), ::testing::StartsWith("OK"));
    ids.push_back("pay-noise-" + std::to_string(i));
    ASSERT_THAT(Sale(ids.back(), 1000 + i), IsOk());
    EXPECT_THAT(testing::TermsimControl(control_, "garbage 300"), ::testing::StartsWith("OK"));
    ASSERT_TRUE(WaitForOutcome(ids.back())) << Device().DebugString();
  }
  ExpectChargedAtMostOnceAndKnown(ids);
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  const auto device = Device();
  EXPECT_GE(device.link_stats().crc_errors(), 1u) << device.DebugString();
  // The flight recorder shows the bad blocks.
  auto dump = manager_->Dump("counter-1", 0);
  ASSERT_THAT(dump.status(), IsOk());
  EXPECT_TRUE(std::any_of(dump->begin(), dump->end(),
                          [](const auto& e) { return e.type() == "BAD_FRAME"; }));
}

TEST_F(DeviceFaultsTest, UnansweredHeartbeatsAreReportedAndRecovered) {
  StartSimulator();
  AddDevice();
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  EXPECT_THAT(testing::TermsimControl(control_, "fault no-heartbeat always"),
              ::testing::StartsWith("OK"));
  // Lost, reset and reconnected, again and again while the fault lasts;
  // each loss is counted under its reason.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const posd::v1::Device device = Device();
        for (const auto& count : device.link_stats().link_downs_by_reason()) {
          if (count.reason() == posd::v1::DEVICE_STATE_REASON_HEARTBEAT_LOST) return true;
        }
        return false;
      },
      30s))
      << Device().DebugString();
  auto dump = manager_->Dump("counter-1", 0);
  ASSERT_THAT(dump.status(), IsOk());
  EXPECT_TRUE(std::any_of(dump->begin(), dump->end(), [](const auto& e) {
    return e.type() == "TIMEOUT" && e.error().find("heartbeats") != std::string::npos;
  }));
  EXPECT_GE(Device().link_stats().heartbeats_missed(), 3u);
  // Each loss was published with its reason (the terminal answers the next
  // handshake at once, so the state is too brief to poll), and the reset
  // posd made after the heartbeats is not counted again as a LINK_DOWN.
  EXPECT_TRUE(WaitUntil([&] { return SawState(posd::v1::DEVICE_STATE_CONNECTING,
                                               posd::v1::DEVICE_STATE_REASON_HEARTBEAT_LOST); },
                        20s));
  EXPECT_FALSE(SawState(posd::v1::DEVICE_STATE_CONNECTING,
                        posd::v1::DEVICE_STATE_REASON_LINK_DOWN));
  const posd::v1::Device device = Device();
  for (const auto& count : device.link_stats().link_downs_by_reason()) {
    EXPECT_EQ(count.reason(), posd::v1::DEVICE_STATE_REASON_HEARTBEAT_LOST)
        << device.DebugString();
  }
  EXPECT_THAT(testing::TermsimControl(control_, "fault no-heartbeat off"),
              ::testing::StartsWith("OK"));
  ASSERT_TRUE(WaitForState(posd::v1::DEVICE_STATE_READY));
  ASSERT_THAT(Sale("pay-after-silence"), IsOk());
  ASSERT_TRUE(WaitForOutcome("pay-after-silence"));
  ExpectChargedAtMostOnceAndKnown({"pay-after-silence"});
}

}  // namespace
}  // namespace posd::devices
