// A terminal still finishing a sale that posd only asks about by status
// query (posd restarted mid-sale) is BUSY, not READY, until the outcome is
// known: a new sale then would only be refused by the terminal.
//
// The terminal is the simulator's endpoint in-process on a pseudo-terminal;
// posd's side is the real DeviceManager, stopped and started again as posd
// would be.
#include <signal.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/devices/device_manager.h"
#include "service/termsim/pty_line.h"
#include "service/termsim/simulator.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd::devices {
namespace {

using namespace std::chrono_literals;
using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

// What the engine would hear.
class RecordingEvents final : public engine::DeviceEvents {
 public:
  void OnProgress(const engine::TransactionProgress& progress) override {
    const std::lock_guard lock(mutex_);
    progress_.push_back(progress.transaction_id);
  }
  void OnResult(const engine::TransactionResult& result) override {
    const std::lock_guard lock(mutex_);
    results_.push_back(result.transaction_id);
  }
  void OnStatusReply(const engine::StatusReply& reply) override {
    const std::lock_guard lock(mutex_);
    replies_.push_back(reply);
  }
  void OnLinkLost(std::string_view, std::string_view) override {}
  void OnDeviceReady(std::string_view) override {}

  std::vector<std::string> progress() const {
    const std::lock_guard lock(mutex_);
    return progress_;
  }
  std::vector<engine::StatusReply> replies() const {
    const std::lock_guard lock(mutex_);
    return replies_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> progress_;
  std::vector<std::string> results_;
  std::vector<engine::StatusReply> replies_;
};

// The simulator on its own io thread, behind a pty.
class TerminalOnPty {
 public:
  explicit TerminalOnPty(const std::string& ledger_path) : guard_(io_.get_executor()) {
    auto line = termsim::PtyLine::Create("");
    EXPECT_THAT(line.status(), IsOk());
    line_ = *std::move(line);
    termsim::SimulatorOptions options;
    options.ledger_path = ledger_path;
    options.endpoint.step_delay = 20ms;
    // An amount ending in 53 is "a slow acquirer": the sale stays in
    // PROCESSING for this long, far beyond the test.
    options.rules.slow_delay = 10min;
    options.make_line = termsim::SerialLine(
        io_, [this] { return line_->OpenMaster(io_); }, "pty " + line_->slave_path(), 115200);
    auto sim = termsim::Simulator::Create(io_, std::move(options), termsim::FaultSwitch(1));
    EXPECT_THAT(sim.status(), IsOk());
    sim_ = *std::move(sim);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TerminalOnPty() {
    boost::asio::post(io_, [this] {
      sim_.reset();
      io_.stop();
    });
    thread_.join();
  }
  const std::string& port() const { return line_->slave_path(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<termsim::PtyLine> line_;
  std::unique_ptr<termsim::Simulator> sim_;
  std::thread thread_;
};

DeviceRecord Record(const std::string& port) {
  DeviceRecord record;
  record.id = "counter-1";
  record.name = "Counter";
  record.serial.port = port;
  return record;
}

std::unique_ptr<DeviceManager> StartManager(const std::string& port,
                                            engine::DeviceEvents& events) {
  auto manager = DeviceManager::Create({});
  EXPECT_THAT(manager.status(), IsOk());
  (*manager)->SetEvents(&events);
  EXPECT_THAT((*manager)->Add(Record(port)), IsOk());
  return *std::move(manager);
}

posd::v1::DeviceState StateOf(DeviceManager& manager) {
  auto device = manager.Get("counter-1", false);
  return device.ok() ? device->state() : posd::v1::DEVICE_STATE_UNSPECIFIED;
}

TEST(DeviceDriverBusyTest, ASaleStillRunningOnTheTerminalAfterARestartKeepsItBusy) {
  ::signal(SIGPIPE, SIG_IGN);
  posd::testing::TempDir dir;
  TerminalOnPty terminal(dir.File("ledger").string());

  // The first posd starts a slow sale and goes away while it runs.
  {
    RecordingEvents events;
    auto first = StartManager(terminal.port(), events);
    ASSERT_TRUE(posd::testing::WaitUntil(
        [&] { return StateOf(*first) == posd::v1::DEVICE_STATE_READY; }, 30s));
    ASSERT_THAT(first->StartSale({.device_id = "counter-1", .transaction_id = "pay_slow",
                                  .amount_minor = 1053, .tip_minor = 0, .currency = "EUR"}),
                IsOk());
    ASSERT_TRUE(posd::testing::WaitUntil([&] { return !events.progress().empty(); }, 30s));
    first->SetEvents(nullptr);
    first->Stop();
  }

  // The next posd only knows the sale from its database and asks about it.
  RecordingEvents events;
  auto second = StartManager(terminal.port(), events);
  ASSERT_TRUE(posd::testing::WaitUntil(
      [&] { return StateOf(*second) == posd::v1::DEVICE_STATE_READY; }, 30s));
  ASSERT_THAT(second->QueryStatus("counter-1", "pay_slow"), IsOk());
  ASSERT_TRUE(posd::testing::WaitUntil(
      [&] { return !events.replies().empty() || !events.progress().empty(); }, 30s));
  // Whatever arrived first, the terminal is busy with the queried sale.
  ASSERT_TRUE(posd::testing::WaitUntil(
      [&] { return StateOf(*second) == posd::v1::DEVICE_STATE_BUSY; }, 5s))
      << posd::v1::DeviceState_Name(StateOf(*second));
  auto device = second->Get("counter-1", false);
  ASSERT_THAT(device.status(), IsOk());
  EXPECT_EQ(device->current_transaction_id(), "pay_slow");
  EXPECT_THAT(second->CheckReady("counter-1"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(second->CheckReady("counter-1").message(), HasSubstr("busy with pay_slow"));
  // The engine heard that the terminal has it (IN_DOUBT -> AUTHORIZING).
  ASSERT_TRUE(posd::testing::WaitUntil([&] { return !events.replies().empty(); }, 5s));
  EXPECT_EQ(events.replies()[0].transaction_id, "pay_slow");
  EXPECT_EQ(events.replies()[0].kind, engine::StatusReplyKind::kInProgress);
  second->SetEvents(nullptr);
  second->Stop();
}

}  // namespace
}  // namespace posd::devices
