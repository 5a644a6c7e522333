// End to end: the posd-termsim binary on a pty it creates, TerminalChannel
// over SerialLinkTransport over SerialPort on the pty's slave. A sale, a
// decline, a duplicate sale answered from the ledger, and a crash after
// charging followed by a restart, whose outcome a status query recovers.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/channel/asio_timer.h"
#include "service/channel/result_ledger.h"
#include "service/channel/serial_link_transport.h"
#include "service/channel/terminal_channel.h"
#include "service/common/clock.h"
#include "service/transport/serial_port.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::channel {
namespace {

using namespace std::chrono_literals;
using Kind = TransactionOutcome::Kind;

// One posd-termsim process. Stopped (SIGTERM, then SIGKILL) by its pid.
class SimProcess {
 public:
  SimProcess() = default;
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;
  ~SimProcess() { Stop(); }

  // Starts it and waits (bounded) for its "PTY <path>" line.
  ::testing::AssertionResult Start(const std::vector<std::string>& args) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return ::testing::AssertionFailure() << "pipe";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      std::vector<char*> argv;
      std::string path = POSD_TERMSIM_PATH;
      argv.push_back(path.data());
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(path.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = out[0];
    std::string buffer;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char chunk[512];
      ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n <= 0) return ::testing::AssertionFailure() << "simulator exited early";
      buffer.append(chunk, static_cast<size_t>(n));
      size_t at = buffer.find("PTY ");
      if (at != std::string::npos && buffer.find('\n', at) != std::string::npos) {
        pty_ = buffer.substr(at + 4, buffer.find('\n', at) - at - 4);
        return ::testing::AssertionSuccess();
      }
    }
    return ::testing::AssertionFailure() << "no PTY line in: " << buffer;
  }

  // Waits for the process to exit by itself; its exit status, or nullopt.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      ::usleep(10'000);
    }
    return std::nullopt;
  }

  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (!WaitExit(5s)) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
      pid_ = -1;
    }
    if (stdout_ >= 0) ::close(stdout_);
    stdout_ = -1;
  }

  const std::string& pty() const { return pty_; }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string pty_;
};

class Recorder final : public TerminalChannelListener {
 public:
  void OnTerminalReady(const TerminalIdentity& t, bool restarted) override {
    ++ready;
    identity = t;
    restarts += restarted ? 1 : 0;
  }
  void OnTerminalLost(std::string_view) override { ++lost; }
  void OnInDoubt(std::string_view id, std::string_view) override { in_doubt.emplace_back(id); }
  void OnOutcome(const TransactionOutcome& o) override { outcomes[o.transaction_id] = o; }
  int ready = 0, restarts = 0, lost = 0;
  TerminalIdentity identity;
  std::vector<std::string> in_doubt;
  std::map<std::string, TransactionOutcome> outcomes;
};

// posd's side: a channel over the serial port at `path` (reopened by path
// when the line fails, so a restarted simulator behind a symlink is found).
class Posd {
 public:
  Posd(boost::asio::io_context& io, std::string path, uint64_t epoch) : io_(io), timers_(io) {
    SerialLinkTransportOptions t;
    t.description = "serial " + path;
    auto transport = SerialLinkTransport::Create(
        io,
        [&io, path]() -> absl::StatusOr<std::unique_ptr<transport::ByteStream>> {
          transport::SerialSettings settings;
          settings.port = path;
          auto port = transport::SerialPort::Open(io, settings);
          if (!port.ok()) return port.status();
          return std::unique_ptr<transport::ByteStream>(*std::move(port));
        },
        t);
    EXPECT_TRUE(transport.ok()) << transport.status();
    transport_ = *std::move(transport);
    TerminalChannelOptions options;
    options.session_epoch = epoch;
    auto channel = TerminalChannel::Create(options, *transport_, timers_, RealClock::Get(), recorder);
    EXPECT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
    channel_->Start();
  }

  // Runs the loop until `done` or `timeout` (real time; the simulator is real).
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_for(20ms);
    }
    return true;
  }
  bool RunUntilResolved(const std::string& id, std::chrono::milliseconds timeout = 20s) {
    return RunUntil([&] { return recorder.outcomes.count(id) > 0; }, timeout);
  }

  TerminalChannel& channel() { return *channel_; }
  Recorder recorder;

 private:
  boost::asio::io_context& io_;
  AsioTimerFactory timers_;
  std::unique_ptr<SerialLinkTransport> transport_;
  std::unique_ptr<TerminalChannel> channel_;
};

link::v1::Sale MakeSale(std::string id, int64_t amount) {
  link::v1::Sale sale;
  sale.set_transaction_id(std::move(id));
  sale.set_amount_minor(amount);
  sale.set_currency_code("EUR");
  return sale;
}

std::vector<ledger::LedgerTransaction> ReadLedger(const std::filesystem::path& path) {
  auto all = ResultLedger::ReadTransactions(path);
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? *all : std::vector<ledger::LedgerTransaction>{};
}

TEST(TermsimIntegration, SaleDeclineAndDuplicateAnsweredFromTheLedger) {
  posd::testing::TempDir dir;
  const std::string ledger = dir.File("ledger").string();
  SimProcess sim;
  ASSERT_TRUE(sim.Start({"--pty", "--ledger", ledger, "--step-ms", "20", "--device-id", "SIM-7",
                         "--log-level", "warn"}));
  boost::asio::io_context io;
  std::string approval;
  {
    Posd posd(io, sim.pty(), 11);
    ASSERT_TRUE(posd.RunUntil([&] { return posd.channel().ready(); }));
    EXPECT_EQ(posd.recorder.identity.device_id, "SIM-7");

    POSD_ASSERT_OK(posd.channel().StartSale(MakeSale("pay_1", 1250)));
    ASSERT_TRUE(posd.RunUntilResolved("pay_1"));
    const TransactionOutcome& sale = posd.recorder.outcomes["pay_1"];
    ASSERT_EQ(sale.kind, Kind::kResult);
    EXPECT_EQ(sale.result.outcome(), link::v1::OUTCOME_APPROVED);
    EXPECT_EQ(sale.result.amount_minor(), 1250);
    EXPECT_EQ(sale.result.masked_pan(), "411111******1111");
    approval = sale.result.approval_code();

    POSD_ASSERT_OK(posd.channel().StartSale(MakeSale("pay_2", 1051)));
    ASSERT_TRUE(posd.RunUntilResolved("pay_2"));
    EXPECT_EQ(posd.recorder.outcomes["pay_2"].result.outcome(), link::v1::OUTCOME_DECLINED);
  }
  // posd restarts (new epoch) and repeats pay_1: the remembered Result.
  Posd again(io, sim.pty(), 12);
  POSD_ASSERT_OK(again.channel().StartSale(MakeSale("pay_1", 1250)));
  ASSERT_TRUE(again.RunUntilResolved("pay_1"));
  EXPECT_EQ(again.recorder.outcomes["pay_1"].result.outcome(), link::v1::OUTCOME_APPROVED);
  EXPECT_EQ(again.recorder.outcomes["pay_1"].result.approval_code(), approval);

  sim.Stop();
  const auto entries = ReadLedger(ledger);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].request().transaction_id(), "pay_1");
  EXPECT_EQ(entries[0].result().outcome(), link::v1::OUTCOME_APPROVED);
  EXPECT_EQ(entries[1].result().outcome(), link::v1::OUTCOME_DECLINED);

  // The ledger printer gives one JSON line per transaction.
  std::string cmd = std::string(POSD_TERMSIM_PATH) + " ledger " + ledger;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_THAT(text, ::testing::HasSubstr("\"transaction_id\":\"pay_1\""));
  EXPECT_THAT(text, ::testing::HasSubstr("OUTCOME_DECLINED"));
}

TEST(TermsimIntegration, CrashAfterChargeIsRecoveredByStatusQueryAfterRestart) {
  posd::testing::TempDir dir;
  const std::string ledger = dir.File("ledger").string();
  const std::string link = dir.File("terminal").string();
  SimProcess sim;
  ASSERT_TRUE(sim.Start({"--pty", "--link", link, "--ledger", ledger, "--step-ms", "20",
                         "--fault", "crash-after-charge", "--log-level", "warn"}));
  boost::asio::io_context io;
  Posd posd(io, link, 21);
  ASSERT_TRUE(posd.RunUntil([&] { return posd.channel().ready(); }));
  const uint64_t first_epoch = posd.recorder.identity.session_epoch;
  POSD_ASSERT_OK(posd.channel().StartSale(MakeSale("pay_c", 4200)));
  // The simulator charges, writes its ledger and exits without answering.
  std::optional<int> exit_code;
  ASSERT_TRUE(posd.RunUntil([&] { return (exit_code = sim.WaitExit(0ms)).has_value(); }));
  EXPECT_EQ(*exit_code, 3);
  ASSERT_TRUE(posd.RunUntil([&] { return !posd.recorder.in_doubt.empty(); }));
  EXPECT_EQ(posd.recorder.in_doubt[0], "pay_c");
  EXPECT_EQ(posd.recorder.outcomes.count("pay_c"), 0u);
  {
    const auto entries = ReadLedger(ledger);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].result().outcome(), link::v1::OUTCOME_APPROVED);
  }

  // The harness restarts it on the same ledger and link name.
  SimProcess restarted;
  ASSERT_TRUE(restarted.Start({"--pty", "--link", link, "--ledger", ledger, "--step-ms", "20",
                               "--log-level", "warn"}));
  ASSERT_TRUE(posd.RunUntilResolved("pay_c", 30s));
  EXPECT_EQ(posd.recorder.restarts, 1);
  EXPECT_NE(posd.recorder.identity.session_epoch, first_epoch);
  EXPECT_EQ(posd.recorder.outcomes["pay_c"].result.outcome(), link::v1::OUTCOME_APPROVED);
  EXPECT_EQ(posd.recorder.outcomes["pay_c"].result.amount_minor(), 4200);
  restarted.Stop();
  const auto entries = ReadLedger(ledger);
  ASSERT_EQ(entries.size(), 1u);  // charged once, never again
}

}  // namespace
}  // namespace posd::channel
