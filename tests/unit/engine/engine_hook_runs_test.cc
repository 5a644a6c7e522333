// The engine as the hook runs' store (hooks::HookRunStore) and its after-hook
// outbox rows: every state transition, bad ids, paging tokens, restarts, and
// RetryHookRun's role, audit and idempotency.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/engine/domain_conversion.h"
#include "service/engine/plugin_hook_points.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/hook_subject_codec.h"
#include "service/hooks/plugin_set.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/engine/engine_fixture.h"
#include "tests/unit/hooks/fake_plugin.h"

namespace posd::engine::testing {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using hooks::HookPoint;
using hooks::HookRun;
using hooks::HookRunState;
using std::chrono::system_clock;

// Plugins "notes" (afterOrder, afterPayment, onPaymentFailed, afterRefund)
// and "mailer" (afterPayment) behind the real chain and adapter.
class EngineHookRunsTest : public EngineTest {
 protected:
  void SetUp() override {
    notes_ = std::make_shared<hooks::testing::FakePlugin>(
        "notes", std::vector<HookPoint>{HookPoint::kAfterOrder, HookPoint::kAfterPayment,
                                        HookPoint::kOnPaymentFailed, HookPoint::kAfterRefund});
    mailer_ = std::make_shared<hooks::testing::FakePlugin>(
        "mailer", std::vector<HookPoint>{HookPoint::kAfterPayment});
    UsePlugins({notes_, mailer_});
    EngineTest::SetUp();
  }

  void UsePlugins(std::vector<std::shared_ptr<hooks::Plugin>> plugins) {
    std::vector<hooks::LoadedPlugin> loaded;
    for (auto& plugin : plugins) loaded.push_back({.plugin = plugin, .settings = {}});
    hook_points_.reset();
    chain_.reset();
    plugins_ = std::make_unique<hooks::PluginSet>(std::move(loaded));
    chain_ = std::make_unique<hooks::HookChain>(*plugins_, hooks::HookChainOptions{});
    hook_points_ = std::make_unique<PluginHookPoints>(*chain_);
    hooks_ = hook_points_.get();
  }

  void Restart() {
    CloseEngine();
    OpenEngine();
  }

  std::vector<HookRun> AllRuns(hooks::HookRunFilter filter = {}) {
    filter.page_size = 500;
    auto page = engine_->ListRuns(filter);
    EXPECT_THAT(page, IsOk());
    return page.ok() ? page->runs : std::vector<HookRun>{};
  }

  HookRun OnlyRun(hooks::HookRunFilter filter) {
    std::vector<HookRun> runs = AllRuns(std::move(filter));
    EXPECT_THAT(runs, SizeIs(1));
    return runs.empty() ? HookRun{} : runs.front();
  }

  // A run claimed by a pass at `now` (the only due one).
  HookRun ClaimOne(system_clock::time_point now = system_clock::now()) {
    auto claimed = engine_->ClaimDueRuns(now, 10);
    EXPECT_THAT(claimed, IsOk());
    EXPECT_THAT(*claimed, SizeIs(1));
    return claimed->empty() ? HookRun{} : claimed->front();
  }

  std::shared_ptr<hooks::testing::FakePlugin> notes_;
  std::shared_ptr<hooks::testing::FakePlugin> mailer_;
  std::unique_ptr<hooks::PluginSet> plugins_;
  std::unique_ptr<hooks::HookChain> chain_;
  std::unique_ptr<PluginHookPoints> hook_points_;
};

hooks::HookRunFilter ForPlugin(std::string plugin) {
  return hooks::HookRunFilter{.plugin = std::move(plugin)};
}

TEST_F(EngineHookRunsTest, PlacingAnOrderWritesAPendingRunWithItsSnapshot) {
  const posd::v1::Order order = PlacedOrder(1200);
  const HookRun run = OnlyRun({.subject_id = order.id()});
  EXPECT_EQ(run.hook_point, HookPoint::kAfterOrder);
  EXPECT_EQ(run.plugin, "notes");
  EXPECT_EQ(run.state, HookRunState::kPending);
  EXPECT_EQ(run.idempotency_key, hooks::HookIdempotencyKey(order.id(), HookPoint::kAfterOrder, "notes"));
  EXPECT_EQ(run.attempts, 0);
  EXPECT_TRUE(run.next_attempt_at.has_value());
  EXPECT_THAT(run.id, ::testing::StartsWith("hook_"));
  // The transition's own event: the order as placed.
  EXPECT_EQ(run.trigger_sequence, order.last_event_sequence());
  auto subject = hooks::DecodeHookSubject(run.subject_snapshot);
  ASSERT_THAT(subject, IsOk());
  ASSERT_TRUE(subject->order.has_value());
  EXPECT_EQ(subject->order->id.str(), order.id());
  EXPECT_EQ(subject->order->state, core::OrderState::kPlaced);
  EXPECT_THAT(subject->ValidateFor(HookPoint::kAfterOrder), IsOk());

  // The run is announced as an event, like every change of it.
  auto events = engine_->queries().ReadEvents(0, 1000);
  ASSERT_THAT(events, IsOk());
  int hook_events = 0;
  for (const auto& event : *events) {
    if (event.kind() != posd::v1::EVENT_KIND_HOOK_RUN_CHANGED) continue;
    ++hook_events;
    EXPECT_EQ(event.hook_run().id(), run.id);
    EXPECT_EQ(event.hook_run().order_id(), order.id());
    EXPECT_EQ(event.hook_run().state(), posd::v1::HOOK_RUN_STATE_PENDING);
  }
  EXPECT_EQ(hook_events, 1);
}

TEST_F(EngineHookRunsTest, AnApprovalPlansOneRunPerPluginWithThePaymentAsApproved) {
  const posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  devices_.Complete(payment->id(), TransactionOutcome::kApproved);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  const std::vector<HookRun> runs = AllRuns({.subject_id = payment->id()});
  ASSERT_THAT(runs, SizeIs(2));
  // Newest first; plugins in configured order.
  EXPECT_EQ(runs[0].plugin, "mailer");
  EXPECT_EQ(runs[1].plugin, "notes");
  for (const HookRun& run : runs) {
    EXPECT_EQ(run.hook_point, HookPoint::kAfterPayment);
    auto subject = hooks::DecodeHookSubject(run.subject_snapshot);
    ASSERT_THAT(subject, IsOk());
    ASSERT_TRUE(subject->payment.has_value());
    EXPECT_EQ(subject->payment->state, core::PaymentState::kApproved);
    ASSERT_TRUE(subject->payment->card.has_value());
    EXPECT_EQ(subject->payment->card->masked_pan.str(), "411111******1111");
    EXPECT_EQ(subject->payment->approval_code, "A1B2C3");
    ASSERT_TRUE(subject->order.has_value());
    EXPECT_EQ(subject->order->state, core::OrderState::kPaid);
  }
}

TEST_F(EngineHookRunsTest, ADeclineGivesOnPaymentFailedRuns) {
  const posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  devices_.Complete(payment->id(), TransactionOutcome::kDeclined);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_DECLINED));
  const HookRun run = OnlyRun({.subject_id = payment->id()});
  EXPECT_EQ(run.hook_point, HookPoint::kOnPaymentFailed);
  EXPECT_EQ(run.plugin, "notes");
}

TEST_F(EngineHookRunsTest, ClaimSucceedAndEveryWrongMoveIsRefused) {
  PlacedOrder(500);
  const HookRun claimed = ClaimOne();
  EXPECT_EQ(claimed.state, HookRunState::kRunning);
  EXPECT_EQ(claimed.attempts, 1);
  EXPECT_FALSE(claimed.subject_snapshot.empty());
  // Claimed once only.
  auto again = engine_->ClaimDueRuns(system_clock::now() + std::chrono::hours(1), 10);
  ASSERT_THAT(again, IsOk());
  EXPECT_THAT(*again, IsEmpty());
  EXPECT_THAT(engine_->NextDueAt(), IsOk());
  EXPECT_FALSE(engine_->NextDueAt()->has_value());

  ASSERT_THAT(engine_->RecordSuccess(claimed.id, system_clock::now()), IsOk());
  auto done = engine_->GetRun(claimed.id);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state, HookRunState::kSucceeded);
  EXPECT_TRUE(done->completed_at.has_value());
  EXPECT_FALSE(done->next_attempt_at.has_value());

  // SUCCEEDED is final for the runner and for the operator.
  EXPECT_THAT(engine_->RecordSuccess(claimed.id, system_clock::now()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(engine_->RecordFailure(claimed.id, {.error = "x"}, system_clock::now()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(engine_->RetryRun(claimed.id, system_clock::now()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(EngineHookRunsTest, BadIdsAreRefusedAndChangeNothing) {
  PlacedOrder(500);
  const auto before = AllRuns();
  for (const std::string& id : {std::string("hook_nope"), std::string("42")}) {
    EXPECT_THAT(engine_->GetRun(id), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(engine_->RecordSuccess(id, system_clock::now()),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(engine_->RecordFailure(id, {.error = "x"}, system_clock::now()),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(engine_->RetryRun(id, system_clock::now()), StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_THAT(engine_->GetRun(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(engine_->RetryRun("", system_clock::now()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A PENDING run is neither RUNNING nor retryable.
  EXPECT_THAT(engine_->RecordSuccess(before.front().id, system_clock::now()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(engine_->RetryRun(before.front().id, system_clock::now()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  const auto after = AllRuns();
  ASSERT_THAT(after, SizeIs(1));
  EXPECT_EQ(after.front().state, HookRunState::kPending);
  EXPECT_EQ(after.front().updated_at, before.front().updated_at);
}

TEST_F(EngineHookRunsTest, ATransientFailureIsScheduledAndClaimedWhenDue) {
  PlacedOrder(500);
  const HookRun claimed = ClaimOne();
  const auto now = system_clock::now();
  const auto due = now + std::chrono::seconds(30);
  ASSERT_THAT(engine_->RecordFailure(claimed.id,
                                     {.error = "UNAVAILABLE: printer off",
                                      .next_state = HookRunState::kRetryScheduled,
                                      .next_attempt_at = due},
                                     now),
              IsOk());
  auto run = engine_->GetRun(claimed.id);
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->state, HookRunState::kRetryScheduled);
  EXPECT_EQ(run->last_error, "UNAVAILABLE: printer off");
  EXPECT_FALSE(run->completed_at.has_value());
  auto next = engine_->NextDueAt();
  ASSERT_THAT(next, IsOk());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ(ToMillis(**next), ToMillis(due));

  auto early = engine_->ClaimDueRuns(due - std::chrono::seconds(1), 10);
  ASSERT_THAT(early, IsOk());
  EXPECT_THAT(*early, IsEmpty());
  const HookRun second = ClaimOne(due);
  EXPECT_EQ(second.id, claimed.id);
  EXPECT_EQ(second.attempts, 2);
}

TEST_F(EngineHookRunsTest, PermanentAndExhaustedFailuresEndTheRunUntilAnOperatorRetries) {
  PlacedOrder(500);
  PlacedOrder(600);
  auto claimed = engine_->ClaimDueRuns(system_clock::now(), 10);
  ASSERT_THAT(claimed, IsOk());
  ASSERT_THAT(*claimed, SizeIs(2));
  const auto now = system_clock::now();
  ASSERT_THAT(engine_->RecordFailure((*claimed)[0].id,
                                     {.error = "INVALID_ARGUMENT: bad", .next_state = HookRunState::kFailed},
                                     now),
              IsOk());
  ASSERT_THAT(engine_->RecordFailure((*claimed)[1].id,
                                     {.error = "gave up", .next_state = HookRunState::kAbandoned},
                                     now),
              IsOk());
  // Neither comes back by itself.
  auto later = engine_->ClaimDueRuns(now + std::chrono::hours(24), 10);
  ASSERT_THAT(later, IsOk());
  EXPECT_THAT(*later, IsEmpty());
  for (const HookRun& c : *claimed) {
    auto run = engine_->GetRun(c.id);
    ASSERT_THAT(run, IsOk());
    EXPECT_TRUE(run->completed_at.has_value());
    auto retried = engine_->RetryRun(c.id, now);
    ASSERT_THAT(retried, IsOk());
    EXPECT_EQ(retried->state, HookRunState::kRetryScheduled);
    EXPECT_EQ(retried->attempts, 0);
    EXPECT_FALSE(retried->completed_at.has_value());
    EXPECT_EQ(retried->last_error, run->last_error);  // kept for the operator
  }
  auto due = engine_->ClaimDueRuns(system_clock::now() + std::chrono::seconds(1), 10);
  ASSERT_THAT(due, IsOk());
  EXPECT_THAT(*due, SizeIs(2));
}

TEST_F(EngineHookRunsTest, AFailureCannotLeaveARunPendingOrRunning) {
  PlacedOrder(500);
  const HookRun claimed = ClaimOne();
  for (HookRunState state : {HookRunState::kPending, HookRunState::kRunning, HookRunState::kSucceeded}) {
    EXPECT_THAT(engine_->RecordFailure(claimed.id, {.error = "x", .next_state = state},
                                       system_clock::now()),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  auto run = engine_->GetRun(claimed.id);
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->state, HookRunState::kRunning);
}

TEST_F(EngineHookRunsTest, RunsCutShortByARestartAreRecoveredAndDueAtOnce) {
  PlacedOrder(500);
  PlacedOrder(700);
  auto claimed = engine_->ClaimDueRuns(system_clock::now(), 1);
  ASSERT_THAT(claimed, IsOk());
  ASSERT_THAT(*claimed, SizeIs(1));
  Restart();  // posd stopped mid-attempt
  auto running = engine_->GetRun((*claimed)[0].id);
  ASSERT_THAT(running, IsOk());
  EXPECT_EQ(running->state, HookRunState::kRunning);

  const auto now = system_clock::now();
  auto recovered = engine_->RecoverInterrupted(now);
  ASSERT_THAT(recovered, IsOk());
  EXPECT_EQ(*recovered, 1);
  auto run = engine_->GetRun((*claimed)[0].id);
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->state, HookRunState::kRetryScheduled);
  EXPECT_THAT(run->last_error, HasSubstr("restart"));
  EXPECT_EQ(run->attempts, 1);  // the cut attempt counts
  // Both the recovered run and the never tried one are due.
  auto due = engine_->ClaimDueRuns(now, 10);
  ASSERT_THAT(due, IsOk());
  EXPECT_THAT(*due, SizeIs(2));
}

TEST_F(EngineHookRunsTest, ListingFiltersAndPages) {
  std::vector<std::string> orders;
  for (int i = 0; i < 5; ++i) orders.push_back(PlacedOrder(100 + i).id());
  hooks::HookRunFilter filter{.page_size = 2};
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    auto page = engine_->ListRuns(filter);
    ASSERT_THAT(page, IsOk());
    ++pages;
    for (const HookRun& run : page->runs) seen.push_back(run.subject_id);
    if (page->next_page_token.empty()) break;
    filter.page_token = page->next_page_token;
  }
  EXPECT_EQ(pages, 3);
  // Newest first, each once.
  EXPECT_THAT(seen, ElementsAre(orders[4], orders[3], orders[2], orders[1], orders[0]));

  // A token is bound to its filters and must be one posd handed out.
  auto first = engine_->ListRuns({.page_size = 2});
  ASSERT_THAT(first, IsOk());
  ASSERT_FALSE(first->next_page_token.empty());
  EXPECT_THAT(engine_->ListRuns({.plugin = "notes", .page_size = 2,
                                 .page_token = first->next_page_token}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  for (const std::string& bad : {std::string("garbage"), std::string("12"),
                                 first->next_page_token + "x",
                                 first->next_page_token.substr(0, first->next_page_token.find(':') + 1) + "-3"}) {
    EXPECT_THAT(engine_->ListRuns({.page_size = 2, .page_token = bad}),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }

  // Filters combine.
  EXPECT_THAT(AllRuns(ForPlugin("mailer")), IsEmpty());
  EXPECT_THAT(AllRuns(ForPlugin("notes")), SizeIs(5));
  EXPECT_THAT(AllRuns({.hook_point = HookPoint::kAfterPayment}), IsEmpty());
  EXPECT_THAT(AllRuns({.hook_point = HookPoint::kAfterOrder}), SizeIs(5));
  EXPECT_THAT(AllRuns({.subject_id = orders[2]}), SizeIs(1));
  for (int i = 0; i < 2; ++i) {
    auto claimed = engine_->ClaimDueRuns(system_clock::now(), 1);
    ASSERT_THAT(claimed, IsOk());
    ASSERT_THAT(*claimed, SizeIs(1));
  }
  EXPECT_THAT(AllRuns({.states = {HookRunState::kRunning}}), SizeIs(2));
  EXPECT_THAT(AllRuns({.states = {HookRunState::kRunning, HookRunState::kPending}}), SizeIs(5));
  EXPECT_THAT(AllRuns({.states = {HookRunState::kFailed}}), IsEmpty());
}

TEST_F(EngineHookRunsTest, RetryHookRunNeedsTheOperatorIsAuditedAndIdempotent) {
  PlacedOrder(500);
  const HookRun claimed = ClaimOne();
  ASSERT_THAT(engine_->RecordFailure(claimed.id,
                                     {.error = "NOT_FOUND: no template", .next_state = HookRunState::kFailed},
                                     system_clock::now()),
              IsOk());
  posd::v1::RetryHookRunRequest request;
  request.set_request_id("retry-1");
  request.set_hook_run_id(claimed.id);
  request.set_reason("template restored");

  auto refused = Call(&Engine::RetryHookRun, request, Actor{"till", "ui"});
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(engine_->GetRun(claimed.id)->state, HookRunState::kFailed);

  auto retried = Call(&Engine::RetryHookRun, request);
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(retried->state(), posd::v1::HOOK_RUN_STATE_RETRY_SCHEDULED);
  EXPECT_EQ(retried->attempts(), 0);
  EXPECT_EQ(retried->max_attempts(), 10);
  EXPECT_EQ(retried->order_id(), claimed.subject_id);

  // The same request again: the first result, no second audit record.
  auto replay = Call(&Engine::RetryHookRun, request);
  ASSERT_THAT(replay, IsOk());
  EXPECT_EQ(replay->id(), retried->id());
  posd::v1::RetryHookRunRequest other = request;
  other.set_reason("something else");
  EXPECT_THAT(Call(&Engine::RetryHookRun, other), StatusIs(absl::StatusCode::kAlreadyExists));

  posd::v1::ListAuditRecordsRequest audit;
  audit.add_actions(posd::v1::AUDIT_ACTION_RETRY_HOOK_RUN);
  // The refusals (the ui role, the reused request_id) are on record too.
  audit.set_outcome(posd::v1::AUDIT_OUTCOME_REFUSED);
  auto refusals = engine_->queries().ListAuditRecords(audit);
  ASSERT_THAT(refusals, IsOk());
  ASSERT_EQ(refusals->audit_records_size(), 2);
  EXPECT_THAT(refusals->audit_records(0).error_message(), HasSubstr("other arguments"));
  EXPECT_EQ(refusals->audit_records(1).actor().role(), posd::v1::ROLE_UI);
  audit.set_outcome(posd::v1::AUDIT_OUTCOME_SUCCEEDED);
  auto records = engine_->queries().ListAuditRecords(audit);
  ASSERT_THAT(records, IsOk());
  ASSERT_EQ(records->audit_records_size(), 1);
  const auto& record = records->audit_records(0);
  EXPECT_EQ(record.request_id(), "retry-1");
  EXPECT_EQ(record.subject_type(), "hook_run");
  EXPECT_EQ(record.subject_id(), claimed.id);
  EXPECT_EQ(record.reason(), "template restored");
  EXPECT_EQ(record.actor().principal(), "tester");
  EXPECT_EQ(record.actor().role(), posd::v1::ROLE_OPERATOR);

  // Bad input: clear errors, nothing changes.
  posd::v1::RetryHookRunRequest unknown;
  unknown.set_request_id("retry-2");
  unknown.set_hook_run_id("hook_unknown");
  EXPECT_THAT(Call(&Engine::RetryHookRun, unknown), StatusIs(absl::StatusCode::kNotFound));
  posd::v1::RetryHookRunRequest no_id;
  no_id.set_request_id("retry-3");
  EXPECT_THAT(Call(&Engine::RetryHookRun, no_id), StatusIs(absl::StatusCode::kInvalidArgument));
  posd::v1::RetryHookRunRequest no_request_id;
  no_request_id.set_hook_run_id(claimed.id);
  EXPECT_THAT(Call(&Engine::RetryHookRun, no_request_id),
              StatusIs(absl::StatusCode::kInvalidArgument));
  posd::v1::RetryHookRunRequest pending = request;
  pending.set_request_id("retry-4");  // the run is RETRY_SCHEDULED now: retryable
  EXPECT_THAT(Call(&Engine::RetryHookRun, pending), IsOk());
  records = engine_->queries().ListAuditRecords(audit);
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(records->audit_records_size(), 2);
}

TEST_F(EngineHookRunsTest, RetryOfARunWhosePluginIsNoLongerEnabledIsRefused) {
  PlacedOrder(500);
  const HookRun claimed = ClaimOne();
  ASSERT_THAT(engine_->RecordFailure(claimed.id,
                                     {.error = "abandoned", .next_state = HookRunState::kAbandoned},
                                     system_clock::now()),
              IsOk());
  CloseEngine();
  UsePlugins({mailer_});  // "notes" was removed from the configuration
  OpenEngine();
  posd::v1::RetryHookRunRequest request;
  request.set_request_id("retry-gone");
  request.set_hook_run_id(claimed.id);
  auto refused = Call(&Engine::RetryHookRun, request);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(refused.status().message(), HasSubstr("notes"));
  EXPECT_EQ(engine_->GetRun(claimed.id)->state, HookRunState::kAbandoned);
}

TEST_F(EngineHookRunsTest, EveryCommitThatMakesRunsDueCallsTheListener) {
  std::atomic<int> calls{0};
  engine_->SetHookRunsListener([&calls] { ++calls; });
  PlacedOrder(500);
  EXPECT_EQ(calls.load(), 1);
  const HookRun claimed = ClaimOne();
  EXPECT_EQ(calls.load(), 1);  // claiming makes nothing due
  ASSERT_THAT(engine_->RecordFailure(claimed.id,
                                     {.error = "x",
                                      .next_state = HookRunState::kRetryScheduled,
                                      .next_attempt_at = system_clock::now()},
                                     system_clock::now()),
              IsOk());
  EXPECT_EQ(calls.load(), 2);
  engine_->SetHookRunsListener(nullptr);
  PlacedOrder(600);
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(EngineHookRunsTest, WithoutPluginsNoRunsAreWritten) {
  CloseEngine();
  UsePlugins({});
  OpenEngine();
  PlacedOrder(500);
  EXPECT_THAT(AllRuns(), IsEmpty());
  EXPECT_THAT(engine_->ClaimDueRuns(system_clock::now(), 10), IsOk());
}

}  // namespace
}  // namespace posd::engine::testing
