#include "service/hooks/outbox_runner.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/clock.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/hook_subject_codec.h"
#include "service/hooks/testing/in_memory_hook_run_store.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/hooks/fake_plugin.h"
#include "tests/unit/hooks/test_values.h"

namespace posd::hooks {
namespace {

using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FakePlugin;
using testing::InMemoryHookRunStore;
using std::chrono::milliseconds;
using std::chrono::seconds;

class OutboxRunnerTest : public ::testing::Test {
 protected:
  OutboxRunnerTest() {
    receipt_ = std::make_shared<FakePlugin>(
        "receipt", std::vector<HookPoint>{HookPoint::kAfterPayment, HookPoint::kAfterRefund});
    plugins_ = PluginSet({LoadedPlugin{.plugin = receipt_, .settings = {}}});
  }

  // Records an afterPayment run as the engine would with the transition.
  std::string Record(const std::string& plugin = "receipt") {
    const core::Payment payment = testing::TestPayment();
    HookSubject subject{.order = testing::TestOrder(), .payment = payment};
    PlannedHookRun planned{
        .hook_point = HookPoint::kAfterPayment,
        .plugin = plugin,
        .subject_id = payment.id.str(),
        .idempotency_key = HookIdempotencyKey(payment.id.str(), HookPoint::kAfterPayment, plugin)};
    return store_.Insert(planned, EncodeHookSubject(subject), clock_.WallNow());
  }

  HookRun Run(const std::string& id) { return *store_.GetRun(id); }

  FakeClock clock_;
  InMemoryHookRunStore store_;
  std::shared_ptr<FakePlugin> receipt_;
  PluginSet plugins_;
  OutboxRunnerOptions options_{.initial_backoff = seconds(1),
                               .max_backoff = seconds(10),
                               .max_attempts = 4};
};

TEST_F(OutboxRunnerTest, RunsDueRunWithSnapshotAndStableKey) {
  std::vector<AfterHookContext> contexts;
  receipt_->after = [&](const HookSubject& subject, const AfterHookContext& context) {
    EXPECT_EQ(subject.payment->approval_code, "A1B2C3");
    EXPECT_EQ(subject.order->lines.size(), 2u);
    contexts.push_back(context);
    return absl::OkStatus();
  };
  const std::string id = Record();
  OutboxRunner runner(store_, plugins_, clock_, options_);
  absl::StatusOr<OutboxPassResult> pass = runner.RunDue();
  POSD_ASSERT_OK(pass);
  EXPECT_EQ(pass->succeeded, 1);
  ASSERT_EQ(contexts.size(), 1u);
  EXPECT_EQ(contexts[0].idempotency_key, "pay_01HF7YAT00V3DQ4XK2M8E9R6ZC:afterPayment:receipt");
  EXPECT_EQ(contexts[0].run_id, id);
  EXPECT_EQ(contexts[0].attempt, 1);
  EXPECT_EQ(Run(id).state, HookRunState::kSucceeded);
  EXPECT_TRUE(Run(id).completed_at.has_value());
  // Done is done: another pass attempts nothing.
  EXPECT_EQ(runner.RunDue()->total(), 0);
}

TEST_F(OutboxRunnerTest, TransientFailuresBackOffExponentiallyThenAbandon) {
  int calls = 0;
  receipt_->after = [&](const HookSubject&, const AfterHookContext&) {
    ++calls;
    return absl::UnavailableError("printer offline");
  };
  const std::string id = Record();
  OutboxRunner runner(store_, plugins_, clock_, options_);
  const auto start = clock_.WallNow();

  EXPECT_EQ(runner.RunDue()->retry_scheduled, 1);
  EXPECT_EQ(Run(id).state, HookRunState::kRetryScheduled);
  EXPECT_EQ(Run(id).next_attempt_at, start + seconds(1));
  EXPECT_THAT(Run(id).last_error, HasSubstr("printer offline"));

  // Not due yet: nothing happens.
  clock_.Advance(milliseconds(999));
  EXPECT_EQ(runner.RunDue()->total(), 0);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(runner.RunDue()->retry_scheduled, 1);
  EXPECT_EQ(Run(id).next_attempt_at, clock_.WallNow() + seconds(2));
  clock_.Advance(seconds(2));
  EXPECT_EQ(runner.RunDue()->retry_scheduled, 1);
  EXPECT_EQ(Run(id).next_attempt_at, clock_.WallNow() + seconds(4));
  clock_.Advance(seconds(4));
  EXPECT_EQ(runner.RunDue()->abandoned, 1);  // the 4th attempt was the last
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(Run(id).state, HookRunState::kAbandoned);
  EXPECT_THAT(Run(id).last_error, HasSubstr("gave up after 4 attempts"));

  // Visible and retryable by an operator, with a fresh budget and the same key.
  POSD_ASSERT_OK(store_.RetryRun(id, clock_.WallNow()));
  receipt_->after = [&](const HookSubject&, const AfterHookContext& context) {
    EXPECT_EQ(context.attempt, 1);
    EXPECT_EQ(context.idempotency_key, Run(id).idempotency_key);
    return absl::OkStatus();
  };
  EXPECT_EQ(runner.RunDue()->succeeded, 1);
  EXPECT_EQ(Run(id).state, HookRunState::kSucceeded);
}

TEST(BackoffTest, DoublesUpToTheCap) {
  OutboxRunnerOptions options{.initial_backoff = seconds(1), .max_backoff = seconds(10)};
  EXPECT_EQ(BackoffAfter(1, options), seconds(1));
  EXPECT_EQ(BackoffAfter(2, options), seconds(2));
  EXPECT_EQ(BackoffAfter(4, options), seconds(8));
  EXPECT_EQ(BackoffAfter(5, options), seconds(10));
  EXPECT_EQ(BackoffAfter(1000, options), seconds(10));
}

TEST_F(OutboxRunnerTest, PermanentErrorFailsAtOnce) {
  receipt_->after = [](const HookSubject&, const AfterHookContext&) {
    return absl::FailedPreconditionError("paper size not supported");
  };
  const std::string id = Record();
  OutboxRunner runner(store_, plugins_, clock_, options_);
  EXPECT_EQ(runner.RunDue()->failed, 1);
  EXPECT_EQ(Run(id).state, HookRunState::kFailed);
  EXPECT_EQ(Run(id).attempts, 1);
}

TEST_F(OutboxRunnerTest, RunOfAPluginNoLongerEnabledIsAbandoned) {
  const std::string id = Record("loyalty");
  OutboxRunner runner(store_, plugins_, clock_, options_);
  EXPECT_EQ(runner.RunDue()->abandoned, 1);
  EXPECT_EQ(Run(id).state, HookRunState::kAbandoned);
  EXPECT_THAT(Run(id).last_error, HasSubstr("\"loyalty\" is not enabled"));
}

TEST_F(OutboxRunnerTest, UnreadableSnapshotFails) {
  const std::string id = Record();
  HookRun run = Run(id);
  run.subject_snapshot = "\xff\xff garbage";
  store_.Put(run);
  OutboxRunner runner(store_, plugins_, clock_, options_);
  EXPECT_EQ(runner.RunDue()->failed, 1);
  EXPECT_THAT(Run(id).last_error, HasSubstr("DATA_LOSS"));
}

TEST_F(OutboxRunnerTest, RunInterruptedByARestartIsAttemptedAgainWithItsKey) {
  const std::string id = Record();
  // The previous process claimed the run and died during the attempt.
  ASSERT_EQ(store_.ClaimDueRuns(clock_.WallNow(), 10)->size(), 1u);
  ASSERT_EQ(Run(id).state, HookRunState::kRunning);

  std::vector<AfterHookContext> contexts;
  receipt_->after = [&](const HookSubject&, const AfterHookContext& context) {
    contexts.push_back(context);
    return absl::OkStatus();
  };
  OutboxRunner runner(store_, plugins_, clock_, options_);
  EXPECT_EQ(runner.RunDue()->total(), 0);  // RUNNING is not claimable by itself
  POSD_ASSERT_OK(store_.RecoverInterrupted(clock_.WallNow()));
  EXPECT_EQ(runner.RunDue()->succeeded, 1);
  ASSERT_EQ(contexts.size(), 1u);
  EXPECT_EQ(contexts[0].attempt, 2);
  EXPECT_EQ(contexts[0].idempotency_key, Run(id).idempotency_key);
}

TEST_F(OutboxRunnerTest, ManualRetryRefusedForRunsThatNeedNone) {
  const std::string id = Record();
  EXPECT_THAT(store_.RetryRun(id, clock_.WallNow()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store_.RetryRun("hook_missing", clock_.WallNow()),
              StatusIs(absl::StatusCode::kNotFound));
}

// The thread: started, it recovers interrupted runs and works off what is
// due; Wake() makes it pick up new runs. Waits are for the observable
// outcome, with a generous bound only against a hang.
TEST_F(OutboxRunnerTest, ThreadRecoversOnStartAndPicksUpNewRunsWhenWoken) {
  absl::Mutex mu;
  std::vector<std::string> keys;
  receipt_->after = [&](const HookSubject&, const AfterHookContext& context) {
    absl::MutexLock lock(&mu);
    keys.push_back(context.run_id);
    return absl::OkStatus();
  };
  const std::string interrupted = Record();
  ASSERT_EQ(store_.ClaimDueRuns(clock_.WallNow(), 10)->size(), 1u);

  OutboxRunner runner(store_, plugins_, clock_,
                      OutboxRunnerOptions{.poll_interval = std::chrono::hours(1)});
  POSD_ASSERT_OK(runner.Start());
  auto count_is = [&](size_t n) {
    return [&, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return keys.size() == n; };
  };
  {
    absl::MutexLock lock(&mu);
    auto one = count_is(1);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&one), absl::Seconds(30)));
  }
  const std::string fresh = Record();
  runner.Wake();
  {
    absl::MutexLock lock(&mu);
    auto two = count_is(2);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&two), absl::Seconds(30)));
    EXPECT_THAT(keys, ElementsAre(interrupted, fresh));
  }
  runner.Stop();
  EXPECT_EQ(Run(fresh).state, HookRunState::kSucceeded);
  EXPECT_THAT(runner.Start(), ::posd::testing::IsOk());  // restartable after Stop
}

TEST_F(OutboxRunnerTest, ListFiltersNewestFirstWithPages) {
  const std::string a = Record();
  const std::string b = Record("loyalty");
  const std::string c = Record();
  absl::StatusOr<HookRunPage> page =
      store_.ListRuns(HookRunFilter{.plugin = "receipt", .page_size = 1});
  POSD_ASSERT_OK(page);
  ASSERT_EQ(page->runs.size(), 1u);
  EXPECT_EQ(page->runs[0].id, c);
  page = store_.ListRuns(
      HookRunFilter{.plugin = "receipt", .page_size = 1, .page_token = page->next_page_token});
  POSD_ASSERT_OK(page);
  EXPECT_EQ(page->runs[0].id, a);
  EXPECT_TRUE(page->next_page_token.empty());
  EXPECT_THAT(store_.ListRuns(HookRunFilter{.page_token = "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  (void)b;
}

}  // namespace
}  // namespace posd::hooks
