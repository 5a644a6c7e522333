// TerminalChannel (side A) and TerminalEndpoint (side B) over two real
// LinkSessions joined by the link layer's virtual-time wire emulator, with
// line faults, terminal power cuts (new epoch, ledger kept) and terminals
// that charge and then stay silent. Proves, for hundreds of sales:
//   - each transaction_id is in the terminal's ledger at most once (charged
//     at most once);
//   - posd learns exactly one outcome for every transaction;
//   - that outcome is the ledger's: an APPROVED outcome has the ledger's
//     approval code, and a "not found"/"refused" outcome has no approved
//     ledger entry.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/channel/result_ledger.h"
#include "service/channel/terminal_channel.h"
#include "service/channel/terminal_endpoint.h"
#include "service/link/testing/link_harness.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::channel {
namespace {

using namespace std::chrono_literals;
using link::testing::LinkHarness;
using link::testing::Side;

class HarnessClock final : public Clock {
 public:
  explicit HarnessClock(const LinkHarness& h) : h_(h) {}
  std::chrono::steady_clock::time_point Now() const override { return h_.now(); }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(h_.now().time_since_epoch()));
  }

 private:
  const LinkHarness& h_;
};

// Timers fired by the test's driving loop between harness steps.
class Timers final : public TimerFactory {
 public:
  class T final : public Timer {
   public:
    explicit T(Timers& owner) : owner_(owner) { owner_.all_.push_back(this); }
    ~T() override { std::erase(owner_.all_, this); }
    void ArmAt(TimePoint d, std::function<void()> f) override {
      deadline = d;
      fire = std::move(f);
    }
    void Cancel() override { fire = nullptr; }
    TimePoint deadline{};
    std::function<void()> fire;

   private:
    Timers& owner_;
  };
  std::unique_ptr<Timer> CreateTimer() override { return std::make_unique<T>(*this); }
  std::optional<TimePoint> Next() const {
    std::optional<TimePoint> next;
    for (const T* t : all_) {
      if (t->fire && (!next || t->deadline < *next)) next = t->deadline;
    }
    return next;
  }
  void FireDue(TimePoint now) {
    for (bool again = true; again;) {
      again = false;
      for (T* t : all_) {
        if (t->fire && t->deadline <= now) {
          std::function<void()> f = std::move(t->fire);
          t->fire = nullptr;
          f();
          again = true;
          break;  // the list may have changed
        }
      }
    }
  }

 private:
  std::vector<T*> all_;
};

// One end of the harness as a MessageTransport.
class HarnessTransport final : public MessageTransport {
 public:
  HarnessTransport(LinkHarness& h, Side side) : h_(h), side_(side) {}
  void Start(MessageTransportHandler* handler) override { handler_ = handler; }
  absl::Status Send(std::span<const uint8_t> message) override {
    if (!is_up()) return absl::FailedPreconditionError("down");
    auto id = h_.session(side_).Send(message, h_.now());
    return id.ok() ? absl::OkStatus() : id.status();
  }
  void Reset(std::string_view) override {
    if (!h_.powered(side_)) return;
    h_.session(side_).Restart(h_.now());
  }
  void Close() override { handler_ = nullptr; }
  bool is_up() const override {
    return handler_ != nullptr && h_.powered(side_) && up_ &&
           h_.session(side_).state() == link::LinkState::kUp;
  }
  std::string_view description() const override { return "harness"; }

  void OnActions(link::LinkActions& actions) {
    for (const link::LinkEvent& e : actions.events) {
      if (e.kind == link::LinkEvent::Kind::kDown && up_) {
        up_ = false;
        if (handler_) handler_->OnTransportDown(TransportDownReason::kRetriesExhausted, "harness");
      }
    }
    for (const link::LinkEvent& e : actions.events) {
      if (e.kind == link::LinkEvent::Kind::kUp && !up_) {
        up_ = true;
        if (handler_) handler_->OnTransportUp();
      }
    }
    for (const std::vector<uint8_t>& m : actions.delivered) {
      if (handler_ && up_) handler_->OnMessage(m);
    }
  }
  void PoweredOff() { up_ = false; }

 private:
  LinkHarness& h_;
  Side side_;
  MessageTransportHandler* handler_ = nullptr;
  bool up_ = false;
};

class Hooks final : public TerminalEndpointHooks {
 public:
  explicit Hooks(uint64_t seed) : rng_(seed) {}
  TransactionPlan Plan(const ledger::Started& request) override {
    TransactionPlan plan;
    if (request.amount_minor() % 7 == 0) {
      plan.outcome = link::v1::OUTCOME_DECLINED;
      plan.reason_code = "51";
    }
    return plan;
  }
  AfterRecord AfterRecorded(const link::v1::Result&) override {
    const double roll = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (roll < power_cut_rate) {
      ++cuts_requested;
      return AfterRecord::kHalt;
    }
    if (roll < power_cut_rate + silent_rate) return AfterRecord::kStaySilent;
    return AfterRecord::kAnswer;
  }
  double power_cut_rate = 0;
  double silent_rate = 0;
  int cuts_requested = 0;

 private:
  std::mt19937_64 rng_;
};

class Listener final : public TerminalChannelListener {
 public:
  void OnOutcome(const TransactionOutcome& o) override {
    ++calls[o.transaction_id];
    outcomes[o.transaction_id] = o;
  }
  std::map<std::string, TransactionOutcome> outcomes;
  std::map<std::string, int> calls;
};

struct Profile {
  std::string name;
  link::testing::WireFaults faults;
  double power_cut_rate = 0;
  double silent_rate = 0;
  double random_cut_rate = 0;  // per transaction, at a random moment
};

void RunProfile(const Profile& profile, int transactions, uint64_t seed) {
  SCOPED_TRACE(profile.name);
  posd::testing::TempDir dir;
  link::testing::HarnessOptions options;
  options.seed = seed;
  options.line.faults = profile.faults;
  LinkHarness harness(options);
  HarnessClock clock(harness);
  Timers timers;
  auto ledger = ResultLedger::Open(dir.File("ledger"), clock);
  POSD_ASSERT_OK(ledger);
  HarnessTransport posd_end(harness, link::testing::kA), term_end(harness, link::testing::kB);
  Hooks hooks(seed);
  hooks.power_cut_rate = profile.power_cut_rate;
  hooks.silent_rate = profile.silent_rate;
  Listener listener;
  TerminalChannelOptions channel_options;
  channel_options.session_epoch = 5;
  auto channel = TerminalChannel::Create(channel_options, posd_end, timers, clock, listener);
  POSD_ASSERT_OK(channel);
  TerminalEndpointOptions endpoint_options;
  endpoint_options.step_delay = 100ms;
  std::unique_ptr<TerminalEndpoint> endpoint;
  uint64_t next_epoch = 100;
  auto boot = [&] {
    endpoint_options.session_epoch = next_epoch++;
    auto created = TerminalEndpoint::Create(endpoint_options, term_end, timers, clock, **ledger, hooks);
    ASSERT_TRUE(created.ok()) << created.status();
    endpoint = *std::move(created);
    endpoint->Start();
  };
  boot();
  harness.on_actions = [&](Side side, link::LinkActions& actions) {
    (side == link::testing::kA ? posd_end : term_end).OnActions(actions);
  };
  harness.on_restart = [&](Side side) {
    if (side == link::testing::kB) boot();
  };
  (*channel)->Start();

  std::mt19937_64 rng(seed);
  int started = 0;
  std::string current;
  const TimePoint limit = harness.now() + std::chrono::hours(24);
  while (harness.now() < limit) {
    if (endpoint && endpoint->halted() && harness.powered(link::testing::kB)) {
      term_end.PoweredOff();
      endpoint.reset();
      harness.PowerCut(link::testing::kB, 700ms);
    }
    if (current.empty() || listener.outcomes.count(current) > 0) {
      if (started == transactions) break;
      current = "pay_" + std::to_string(seed) + "_" + std::to_string(started);
      link::v1::Sale sale;
      sale.set_transaction_id(current);
      sale.set_amount_minor(100 + static_cast<int64_t>(rng() % 5000));
      sale.set_currency_code("EUR");
      POSD_ASSERT_OK((*channel)->StartSale(sale));
      ++started;
      if (std::uniform_real_distribution<double>(0, 1)(rng) < profile.random_cut_rate) {
        harness.SchedulePowerCut(link::testing::kB,
                                 harness.now() + std::chrono::milliseconds(rng() % 800), 500ms);
      }
    }
    std::optional<TimePoint> next = timers.Next();
    TimePoint until = harness.now() + 50ms;
    if (next && *next < until) until = *next;
    harness.RunUntil(until);
    if (!harness.powered(link::testing::kB) && endpoint) {
      // A scheduled cut happened: volatile state is gone with it.
      term_end.PoweredOff();
      endpoint.reset();
    }
    timers.FireDue(harness.now());
  }
  ASSERT_EQ(started, transactions);
  ASSERT_EQ(listener.outcomes.size(), static_cast<size_t>(transactions)) << "outcomes missing";

  for (const auto& [id, outcome] : listener.outcomes) {
    EXPECT_EQ(listener.calls[id], 1) << id;
    const ledger::LedgerTransaction* entry = (*ledger)->Find(id);
    if (outcome.kind == TransactionOutcome::Kind::kResult) {
      ASSERT_NE(entry, nullptr) << id;
      ASSERT_TRUE(entry->has_result()) << id;
      EXPECT_EQ(outcome.result.outcome(), entry->result().outcome()) << id;
      EXPECT_EQ(outcome.result.approval_code(), entry->result().approval_code()) << id;
    } else {
      const bool charged = entry != nullptr && entry->has_result() &&
                           entry->result().outcome() == link::v1::OUTCOME_APPROVED;
      EXPECT_FALSE(charged) << id << " charged but posd was told "
                            << OutcomeKindName(outcome.kind);
    }
  }
  EXPECT_LE((*ledger)->transaction_count(), static_cast<size_t>(transactions));
  if (profile.power_cut_rate > 0) {
    EXPECT_GT(hooks.cuts_requested, 0);
  }
  if (profile.faults.frame_drop_rate > 0) {
    EXPECT_GT(harness.TotalStats(link::testing::kA).retransmits_timeout +
                  harness.TotalStats(link::testing::kB).retransmits_timeout +
                  harness.TotalStats(link::testing::kA).retransmits_nak +
                  harness.TotalStats(link::testing::kB).retransmits_nak,
              0u);
  }
}

TEST(ChannelFaults, CleanLine) { RunProfile({"clean", {}, 0, 0, 0}, 200, 1); }

TEST(ChannelFaults, NoisyLine) {
  Profile p{"noisy", {}, 0, 0, 0};
  p.faults.bit_error_rate = 2e-5;
  p.faults.frame_drop_rate = 0.02;
  p.faults.frame_duplicate_rate = 0.02;
  RunProfile(p, 200, 2);
}

TEST(ChannelFaults, SilentTerminalAndPowerCutsAfterCharging) {
  Profile p{"silent_and_cuts", {}, 0.1, 0.1, 0};
  p.faults.frame_drop_rate = 0.01;
  RunProfile(p, 150, 3);
}

TEST(ChannelFaults, PowerCutsAtRandomMoments) {
  Profile p{"random_cuts", {}, 0, 0, 0.3};
  p.faults.bit_error_rate = 1e-5;
  RunProfile(p, 150, 4);
}

}  // namespace
}  // namespace posd::channel
