// posd killed with SIGKILL at random moments while it takes payments on
// simulated terminals, again and again: after every restart each payment
// reaches a final state, and posd's database and the terminals' ledgers
// agree exactly (every approved payment charged once, every charge an
// approved payment, nothing charged twice).
//
// posd and four posd-termsim processes run as real processes, each
// terminal on its own pseudo-terminal. A round starts a few payment flows
// on every terminal at once and kills posd in one of these ways:
//  - after a random delay (anywhere: mid-commit, mid-send, mid-answer);
//  - as soon as a terminal's ledger grows: the terminal has just started a
//    sale, so posd is gone before it charges and answers;
//  - as soon as a terminal's ledger records a charge: a race with the
//    Result on its way to posd;
//  - after a charge whose Result the terminal withholds (fault
//    approve-no-answer): posd dies between the charge and its answer,
//    every time.
// Sometimes posd is killed a second time while it recovers. Then posd
// restarts, the calls whose outcome the client never heard are retried
// with their request_id, and the test waits until nothing is left open.
//
// The RNG's seed is printed; POSD_CRASH_SEED=N replays a run's choices
// (timing on a loaded machine still varies).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "service/store/store.h"
#include "tests/faults/payments/payment_harness.h"
#include "tests/support/temp_dir.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kTerminals = 4;
constexpr int kMinPayments = 200;
constexpr int kMaxRounds = 90;
constexpr int kMaxFlowsPerTerminalAndRound = 12;
// Rounds start only within this time; each round is bounded too, so the
// whole test stays within a few minutes even under sanitizers.
constexpr auto kRoundBudget = 230s;
constexpr int kStepMs = 25;
constexpr int kSlowMs = 250;

enum class KillMode { kRandomDelay, kOnLedgerStart, kOnCharge, kSilentCharge };
constexpr KillMode kAllModes[] = {KillMode::kRandomDelay, KillMode::kOnLedgerStart,
                                  KillMode::kOnCharge, KillMode::kSilentCharge};

const char* ModeName(KillMode mode) {
  switch (mode) {
    case KillMode::kRandomDelay: return "random-delay";
    case KillMode::kOnLedgerStart: return "on-ledger-start";
    case KillMode::kOnCharge: return "on-charge";
    case KillMode::kSilentCharge: return "silent-charge";
  }
  return "?";
}

uint64_t SeedFromEnvironment() {
  if (const char* text = std::getenv("POSD_CRASH_SEED"); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 10);
  }
  return (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
}

// Amounts that make the simulator approve, decline, ask for a PIN, take
// long, see the customer cancel, or fail (its rules, by the cents).
int64_t PickAmount(std::mt19937_64& rng, bool approve_only) {
  const int64_t euros = 1 + static_cast<int64_t>(rng() % 90);
  int64_t cents = static_cast<int64_t>(rng() % 50);  // 00..49: approved
  if (!approve_only) {
    const int dice = static_cast<int>(rng() % 100);
    if (dice < 8) cents = 51;          // declined
    else if (dice < 14) cents = 52;    // PIN, approved
    else if (dice < 18) cents = 53;    // slow, approved
    else if (dice < 24) cents = 54;    // customer cancels
    else if (dice < 30) cents = 55;    // acquirer error
  } else if (rng() % 5 == 0) {
    cents = 52;
  }
  return euros * 100 + cents;
}

// One mutating call as the client saw it.
struct Flow {
  enum class Kind { kSale, kRefund, kCancel };
  enum class Result {
    kDone,     // posd answered with the resource
    kUnknown,  // no answer (posd died): retried after the restart
    kRefused,  // posd refused (terminal busy or not ready, ...): nothing recorded
  };
  Kind kind = Kind::kSale;
  posd::v1::CreatePaymentRequest sale;
  posd::v1::RefundPaymentRequest refund;
  posd::v1::CancelPaymentRequest cancel;
  Result result = Result::kUnknown;
  std::string resource_id;  // the payment or refund
  std::string error;

  const std::string& request_id() const {
    return kind == Kind::kSale     ? sale.request_id()
           : kind == Kind::kRefund ? refund.request_id()
                                   : cancel.request_id();
  }
};

class PaymentCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= kTerminals; ++i) {
      terminals_.push_back(std::make_unique<Terminal>("t" + std::to_string(i), dir_.path()));
      std::string error;
      ASSERT_TRUE(terminals_.back()->Start(kStepMs, kSlowMs, &error)) << error;
      views_.push_back(terminals_.back().get());
    }
    std::filesystem::create_directories(dir_.File("posd"));
    WritePosdConfig(paths_, DevicesYaml(views_) + "logging:\n  level: info\n");
  }

  void TearDown() override {
    if (posd_ && posd_->Running()) {
      posd_->Signal(SIGKILL);
      posd_->WaitForExit(10s);
    }
    for (auto& terminal : terminals_) terminal->Stop();
  }

  // Starts posd and a fresh client for it.
  bool StartPosd() {
    posd_.emplace(posd::testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd"), 60s));
    client_ = std::make_unique<Client>(paths_.address());
    return posd_->Running() && UnixSocketAccepts(paths_.socket);
  }

  void KillPosd() {
    posd_->Signal(SIGKILL);
    const auto exit = posd_->WaitForExit(20s);
    ASSERT_TRUE(exit.has_value()) << "posd did not die from SIGKILL";
    ++kills_;
  }

  std::string PosdLog() const { return posd_ ? Tail(posd_->Stderr(), 60) : ""; }

  // Sends `flow` (a first call or a retry with the same request_id) and
  // records what posd answered.
  void Send(Client& client, Flow& flow) {
    grpc::Status status;
    if (flow.kind == Flow::Kind::kSale) {
      posd::v1::Payment payment;
      status = client.CreatePayment(flow.sale, &payment);
      if (status.ok()) flow.resource_id = payment.id();
    } else if (flow.kind == Flow::Kind::kRefund) {
      posd::v1::Refund refund;
      status = client.RefundPayment(flow.refund, &refund);
      if (status.ok()) flow.resource_id = refund.id();
    } else {
      posd::v1::Payment payment;
      status = client.CancelPayment(flow.cancel, &payment);
      if (status.ok()) flow.resource_id = payment.id();
    }
    if (status.ok()) {
      flow.result = Flow::Result::kDone;
    } else if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      flow.result = Flow::Result::kRefused;
      flow.error = status.error_message();
    } else {
      flow.result = Flow::Result::kUnknown;
      flow.error = std::to_string(status.error_code()) + " " + status.error_message();
    }
  }

  Flow& Record(const Flow& flow) {
    const std::lock_guard lock(flows_mutex_);
    flows_.push_back(std::make_unique<Flow>(flow));
    return *flows_.back();
  }

  // Polls `payment_id` until `done` holds; false when posd stopped answering.
  template <typename Done>
  bool Follow(Client& client, const std::string& payment_id, const std::atomic<bool>& killed,
              Done done) {
    while (!killed) {
      posd::v1::Payment now;
      if (!client.GetPayment(payment_id, &now).ok()) return false;
      if (done(now)) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  // Runs up to `max_flows` payments one after the other on `device`, each
  // followed until it is final, some canceled on the way, some refunded
  // afterwards, until posd stops answering.
  void RunFlows(const std::string& device, uint64_t seed, int max_flows, bool approve_only,
                const std::string& prefix, const std::atomic<bool>& killed) {
    std::mt19937_64 rng(seed);
    Client& client = *client_;
    for (int i = 0; i < max_flows && !killed; ++i) {
      const std::string name = prefix + "-" + device + "-" + std::to_string(i);
      Flow sale;
      sale.sale.set_request_id(name);
      auto* payment = sale.sale.mutable_payment();
      payment->set_device_id(device);
      payment->mutable_amount()->set_amount_minor(PickAmount(rng, approve_only));
      payment->mutable_amount()->set_currency_code("EUR");
      if (rng() % 4 == 0) {
        payment->mutable_tip()->set_amount_minor(static_cast<int64_t>(50 + rng() % 300));
        payment->mutable_tip()->set_currency_code("EUR");
      }
      Send(client, sale);
      const Flow& sent = Record(sale);
      if (sent.result == Flow::Result::kUnknown) return;
      if (sent.result == Flow::Result::kRefused) {
        std::this_thread::sleep_for(20ms);
        continue;
      }
      const std::string payment_id = sent.resource_id;
      if (!approve_only && rng() % 10 == 0) {
        // The customer changes their mind while the terminal works.
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 60));
        Flow cancel;
        cancel.kind = Flow::Kind::kCancel;
        cancel.cancel.set_request_id(name + "-cancel");
        cancel.cancel.set_payment_id(payment_id);
        cancel.cancel.set_reason("customer changed their mind");
        Send(client, cancel);
        if (Record(cancel).result == Flow::Result::kUnknown) return;
      }
      posd::v1::Payment final_payment;
      if (!Follow(client, payment_id, killed, [&](const posd::v1::Payment& now) {
            final_payment = now;
            return IsFinal(now.status());
          })) {
        return;
      }
      if (final_payment.status() != posd::v1::PAYMENT_STATUS_APPROVED || approve_only ||
          rng() % 3 != 0) {
        continue;
      }
      Flow refund;
      refund.kind = Flow::Kind::kRefund;
      refund.refund.set_request_id(name + "-refund");
      refund.refund.set_payment_id(payment_id);
      refund.refund.set_reason("returned goods");
      const int64_t charged = final_payment.charged_amount().amount_minor();
      if (rng() % 2 == 0 && charged > 1) {
        refund.refund.mutable_amount()->set_amount_minor(
            1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(charged - 1)));
        refund.refund.mutable_amount()->set_currency_code("EUR");
      }
      Send(client, refund);
      const Flow& refund_sent = Record(refund);
      if (refund_sent.result == Flow::Result::kUnknown) return;
      if (refund_sent.result == Flow::Result::kRefused) continue;
      if (!Follow(client, payment_id, killed,
                  [&](const posd::v1::Payment& now) { return IsSettled(now); })) {
        return;
      }
    }
  }

  // Blocks until `mode` says posd must die now (or a bound passes).
  void WaitForKillMoment(KillMode mode, std::mt19937_64& rng, const Terminal* silent) {
    struct Watch {
      uintmax_t size = 0;
      int finished = 0;
      int approved = 0;
    };
    auto look = [](const Terminal& terminal) {
      Watch watch;
      watch.size = terminal.LedgerSize();
      auto transactions = terminal.Transactions();
      if (transactions.ok()) {
        for (const auto& t : *transactions) {
          if (!t.has_result()) continue;
          ++watch.finished;
          if (t.result().outcome() == link::v1::OUTCOME_APPROVED) ++watch.approved;
        }
      }
      return watch;
    };
    std::vector<Watch> before;
    for (const Terminal* terminal : views_) before.push_back(look(*terminal));
    const auto give_up = Clock::now() + 15s;
    switch (mode) {
      case KillMode::kRandomDelay:
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 3000));
        return;
      case KillMode::kOnLedgerStart:
        // Polled tightly: the kill should land right after the Started
        // record, long before the terminal's answer (a few steps later).
        while (Clock::now() < give_up) {
          for (size_t i = 0; i < views_.size(); ++i) {
            if (views_[i]->LedgerSize() > before[i].size) return;
          }
          std::this_thread::sleep_for(200us);
        }
        return;
      case KillMode::kOnCharge:
      case KillMode::kSilentCharge:
        while (Clock::now() < give_up) {
          for (size_t i = 0; i < views_.size(); ++i) {
            if (mode == KillMode::kSilentCharge && views_[i] != silent) continue;
            const uintmax_t size = views_[i]->LedgerSize();
            if (size == before[i].size) continue;
            const Watch now = look(*views_[i]);
            before[i].size = now.size;
            if (mode == KillMode::kOnCharge && now.finished > before[i].finished) return;
            if (mode == KillMode::kSilentCharge && now.approved > before[i].approved) return;
          }
          std::this_thread::sleep_for(200us);
        }
        return;
    }
  }

  // Every call whose answer was lost is sent again with the same
  // request_id: it returns the resource if the first call committed;
  // otherwise it is a new call (or refused while the terminal is not ready).
  void RetryUnknownFlows() {
    for (auto& flow : flows_) {
      if (flow->result != Flow::Result::kUnknown) continue;
      ++retried_;
      Send(*client_, *flow);
      EXPECT_NE(flow->result, Flow::Result::kUnknown)
          << "retry of " << flow->request_id() << ": " << flow->error;
    }
  }

  // The client's view agrees with posd's: each answered call is exactly
  // that payment or refund; a refused call left nothing behind.
  void CheckRequestIds(const std::vector<posd::v1::Payment>& payments) {
    std::map<std::string, std::string> by_request;  // request_id -> payment or refund
    for (const auto& payment : payments) {
      by_request[payment.request_id()] = payment.id();
      for (const auto& refund : payment.refunds()) by_request[refund.request_id()] = refund.id();
    }
    for (const auto& flow : flows_) {
      if (flow->kind == Flow::Kind::kCancel) continue;
      auto it = by_request.find(flow->request_id());
      if (flow->result == Flow::Result::kDone) {
        ASSERT_NE(it, by_request.end()) << flow->request_id() << " answered with "
                                        << flow->resource_id << " but posd does not have it";
        EXPECT_EQ(it->second, flow->resource_id) << flow->request_id();
      } else if (flow->result == Flow::Result::kRefused) {
        EXPECT_EQ(it, by_request.end()) << flow->request_id() << " was refused (" << flow->error
                                        << ") yet made " << it->second;
      }
    }
  }

  // Waits until nothing is open, then compares posd with the ledgers and
  // the event log; returns how many payments posd has.
  size_t CheckAgreement(int round, KillMode mode, uint64_t seed) {
    std::string open;
    EXPECT_TRUE(client_->WaitAllFinal(90s, &open))
        << "round " << round << " (" << ModeName(mode) << ", seed " << seed
        << "): left open: " << open << "\n" << PosdLog();
    auto all = client_->ListAllPayments();
    EXPECT_TRUE(all.ok()) << all.status();
    if (!all.ok()) return 0;
    const auto problems = CompareWithLedgers(*all, views_);
    EXPECT_TRUE(problems.empty()) << "round " << round << " (" << ModeName(mode) << ", seed "
                                  << seed << "): " << ::testing::PrintToString(problems) << "\n"
                                  << PosdLog();
    CheckRequestIds(*all);
    auto events = client_->ListAllEvents();
    EXPECT_TRUE(events.ok()) << events.status();
    if (events.ok()) {
      const auto event_problems = CompareWithEvents(*all, *events);
      EXPECT_TRUE(event_problems.empty())
          << "round " << round << " (" << ModeName(mode) << ", seed " << seed
          << "): " << ::testing::PrintToString(event_problems);
    }
    return all->size();
  }

  TempDir dir_;
  PosdPaths paths_{dir_.path()};
  std::vector<std::unique_ptr<Terminal>> terminals_;
  std::vector<const Terminal*> views_;
  std::optional<Subprocess> posd_;
  std::unique_ptr<Client> client_;
  std::mutex flows_mutex_;
  std::vector<std::unique_ptr<Flow>> flows_;  // guarded by flows_mutex_ while flows run
  int kills_ = 0;
  int retried_ = 0;

  int Count(Flow::Kind kind) const {
    int count = 0;
    for (const auto& flow : flows_) count += flow->kind == kind ? 1 : 0;
    return count;
  }
};

TEST_F(PaymentCrashTest, KilledAtRandomMomentsPosdAndTheLedgersAgree) {
  const uint64_t seed = SeedFromEnvironment();
  std::cout << "payment crash test: seed " << seed << " (replay with POSD_CRASH_SEED=" << seed
            << ")" << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);

  const auto started = Clock::now();
  ASSERT_TRUE(StartPosd()) << PosdLog();
  std::map<KillMode, int> rounds_by_mode;
  int rounds = 0;
  int recovery_kills = 0;
  size_t payments = 0;
  while (rounds < kMaxRounds && Clock::now() - started < kRoundBudget &&
         static_cast<int>(payments) < kMinPayments) {
    ++rounds;
    // Every mode early, then at random.
    const KillMode mode = rounds <= 4 ? kAllModes[(seed + rounds) % 4] : kAllModes[rng() % 4];
    ++rounds_by_mode[mode];
    for (const Terminal* terminal : views_) {
      ASSERT_TRUE(client_->WaitDeviceReady(terminal->device_id(), 60s))
          << "round " << rounds << ": " << terminal->device_id() << " not ready\n" << PosdLog();
    }
    Terminal* silent = nullptr;
    if (mode == KillMode::kSilentCharge) {
      silent = terminals_[rng() % terminals_.size()].get();
      ASSERT_THAT(silent->Control("fault approve-no-answer once"), ::testing::StartsWith("OK"));
    }

    std::atomic<bool> killed{false};
    std::vector<std::thread> threads;
    const std::string prefix = "r" + std::to_string(rounds);
    for (const Terminal* terminal : views_) {
      const int max_flows = 1 + static_cast<int>(rng() % kMaxFlowsPerTerminalAndRound);
      threads.emplace_back([this, device = terminal->device_id(), flow_seed = rng(), max_flows,
                            approve_only = terminal == silent, prefix, &killed] {
        RunFlows(device, flow_seed, max_flows, approve_only, prefix, killed);
      });
    }
    WaitForKillMoment(mode, rng, silent);
    KillPosd();
    killed = true;
    for (auto& thread : threads) thread.join();
    if (silent != nullptr) {
      ASSERT_THAT(silent->Control("fault approve-no-answer off"), ::testing::StartsWith("OK"));
    }
    ASSERT_TRUE(StartPosd()) << PosdLog();
    if (rng() % 4 == 0) {
      // Killed again while recovering: recovery itself must be restartable.
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 1000));
      KillPosd();
      ++recovery_kills;
      ASSERT_TRUE(StartPosd()) << PosdLog();
    }
    RetryUnknownFlows();
    // Most rounds wait until everything is settled and compare; the others
    // go straight on, so new payments meet a posd (and terminals) still
    // recovering from the last kill.
    if (rng() % 3 != 0) {
      payments = CheckAgreement(rounds, mode, seed);
    } else {
      auto all = client_->ListAllPayments();
      ASSERT_TRUE(all.ok()) << all.status();
      payments = all->size();
    }
    if (HasFailure()) break;
  }
  ASSERT_FALSE(HasFailure());
  payments = CheckAgreement(rounds, KillMode::kRandomDelay, seed);
  ASSERT_FALSE(HasFailure());

  const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started);
  auto all = client_->ListAllPayments();
  ASSERT_TRUE(all.ok()) << all.status();
  std::map<std::string, int> by_status;
  std::map<std::string, int> failure_reasons;
  for (const auto& payment : *all) {
    ++by_status[posd::v1::PaymentStatus_Name(payment.status())];
    if (payment.status() != posd::v1::PAYMENT_STATUS_APPROVED) {
      ++failure_reasons[payment.failure_reason().substr(0, 60)];
    }
  }
  std::cout << "payment crash test: seed " << seed << ", " << rounds << " rounds, "
            << flows_.size() << " calls (" << Count(Flow::Kind::kSale) << " sales, "
            << Count(Flow::Kind::kCancel) << " cancels, " << Count(Flow::Kind::kRefund)
            << " refunds; " << retried_ << " retried after a kill), " << all->size() << " payments, "
            << kills_ << " SIGKILLs (" << recovery_kills << " during recovery), " << elapsed.count()
            << " s\n  kill moments:";
  for (const auto& [mode, count] : rounds_by_mode) std::cout << " " << ModeName(mode) << "=" << count;
  std::cout << "\n  outcomes:";
  for (const auto& [status, count] : by_status) std::cout << " " << status << "=" << count;
  std::cout << "\n  why not approved:";
  for (const auto& [reason, count] : failure_reasons) {
    std::cout << "\n    " << count << " x " << reason;
  }
  std::cout << std::endl;
  EXPECT_GE(all->size(), static_cast<size_t>(kMinPayments))
      << "not enough payment flows within " << elapsed.count() << " s";
  for (KillMode mode : kAllModes) EXPECT_GE(rounds_by_mode[mode], 1) << ModeName(mode);
  EXPECT_GE(by_status["PAYMENT_STATUS_APPROVED"], 1);

  // A clean stop after all that, and a database that passes its checks.
  posd_->Signal(SIGTERM);
  EXPECT_EQ(posd_->WaitForExit(60s), 0) << PosdLog();
  posd_.reset();
  auto store = store::Store::Open({.path = paths_.database.string()});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->writer().QueryText("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace posd::testing
