// Group commit, isolation of a failing command inside a group, a full disk,
// and the event log's sequence numbers.
#include <future>
#include <latch>
#include <thread>

#include "service/store/statement.h"
#include "tests/unit/engine/engine_fixture.h"

namespace posd::engine::testing {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using Code = absl::StatusCode;

// Holds the writer busy inside a command until released, so that commands
// submitted meanwhile queue up and form one group.
class WriterBlocker {
 public:
  explicit WriterBlocker(Engine& engine)
      : thread_([this, &engine] {
          (void)engine.RunWrite([this](store::Database&) {
            started_.count_down();
            release_.wait();
            return absl::OkStatus();
          });
        }) {
    started_.wait();
  }
  void Release() {
    release_.count_down();
    thread_.join();
  }

 private:
  std::latch started_{1};
  std::latch release_{1};
  std::thread thread_;
};

posd::v1::CreateOrderRequest OrderRequest(const std::string& id) {
  posd::v1::CreateOrderRequest request;
  request.set_request_id(id);
  request.mutable_order()->set_currency_code("EUR");
  return request;
}

TEST_F(EngineTest, CommandsQueuedTogetherCommitInOneTransaction) {
  constexpr int kCommands = 40;
  WriterBlocker blocker(*engine_);
  const uint64_t before = engine_->stats().transactions;
  std::vector<std::promise<absl::StatusOr<posd::v1::Order>>> results(kCommands);
  for (int i = 0; i < kCommands; ++i) {
    engine_->CreateOrder({}, OrderRequest("burst-" + std::to_string(i)),
                         [&results, i](absl::StatusOr<posd::v1::Order> order) {
                           results[i].set_value(std::move(order));
                         });
  }
  blocker.Release();
  for (auto& result : results) EXPECT_THAT(result.get_future().get(), IsOk());
  // The blocker's own transaction, then one for the whole burst.
  EXPECT_EQ(engine_->stats().transactions - before, 2u);
  EXPECT_EQ(engine_->stats().largest_group, static_cast<uint64_t>(kCommands));
  auto list = engine_->queries().ListOrders({});
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->orders_size(), kCommands);
}

TEST_F(EngineTest, AFailingCommandIsRolledBackAloneInsideItsGroup) {
  WriterBlocker blocker(*engine_);
  const uint64_t before = engine_->stats().transactions;
  std::promise<absl::StatusOr<posd::v1::Order>> good_before, good_after;
  std::promise<absl::Status> bad;
  engine_->CreateOrder({}, OrderRequest("good-1"), [&](auto order) { good_before.set_value(order); });
  std::thread failing([&] {
    bad.set_value(engine_->RunWrite([](store::Database& db) {
      // Writes, then fails: its write must not survive.
      absl::Status status = db.Execute(
          "INSERT INTO audit_log (at, actor, role, action, subject) VALUES (1, 'x', 'x', "
          "'half-done', 'x')");
      if (!status.ok()) return status;
      return absl::AbortedError("changed my mind");
    }));
  });
  // Both must be queued before the writer resumes, to share a transaction.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (engine_->stats().queued < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  engine_->CreateOrder({}, OrderRequest("good-2"), [&](auto order) { good_after.set_value(order); });
  ASSERT_EQ(engine_->stats().queued, 3u);
  blocker.Release();
  failing.join();
  EXPECT_THAT(good_before.get_future().get(), IsOk());
  EXPECT_THAT(good_after.get_future().get(), IsOk());
  EXPECT_THAT(bad.get_future().get(), StatusIs(Code::kAborted));
  auto reader = store_->OpenReader();
  ASSERT_THAT(reader, IsOk());
  EXPECT_THAT((*reader)->QueryInt64("SELECT count(*) FROM audit_log WHERE action = 'half-done'"),
              ::testing::Eq(absl::StatusOr<int64_t>(0)));
  // The blocker's transaction and one for the three.
  EXPECT_EQ(engine_->stats().transactions - before, 2u);
  EXPECT_EQ(engine_->queries().ListOrders({})->orders_size(), 2);
}

TEST_F(EngineTest, EventsAreNumberedWithoutGapsAndResumable) {
  devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  // A refused command in between must not leave a hole.
  EXPECT_THAT(Pay(order.id(), 1), StatusIs(Code::kFailedPrecondition));
  auto all = engine_->queries().ReadEvents(0, 1000);
  ASSERT_THAT(all, IsOk());
  ASSERT_GE(all->size(), 6u);
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].sequence(), i + 1);
    EXPECT_TRUE((*all)[i].durable());
  }
  EXPECT_EQ(engine_->broadcaster().head(), all->size());
  // Resuming from any sequence gives exactly the rest.
  const uint64_t resume = 3;
  posd::v1::ListEventsRequest list;
  list.set_since_sequence(resume);
  list.set_page_size(2);
  std::vector<uint64_t> seen;
  while (true) {
    auto page = engine_->queries().ListEvents(list);
    ASSERT_THAT(page, IsOk());
    for (const auto& event : page->events()) seen.push_back(event.sequence());
    if (page->next_page_token().empty()) break;
    list.set_page_token(page->next_page_token());
  }
  ASSERT_EQ(seen.size(), all->size() - resume);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], resume + 1 + i);
  // The order filter keeps the order's and its payment's events.
  list.Clear();
  list.mutable_filter()->set_payment_id(payment->id());
  auto filtered = engine_->queries().ListEvents(list);
  ASSERT_THAT(filtered, IsOk());
  ASSERT_GE(filtered->events_size(), 2);
  for (const auto& event : filtered->events()) EXPECT_TRUE(event.has_payment());
  // The ring of the broadcaster serves the same events.
  std::vector<posd::v1::Event> from_ring;
  EXPECT_TRUE(engine_->broadcaster().Fetch(resume, 1000, from_ring));
  ASSERT_EQ(from_ring.size(), all->size() - resume);
  EXPECT_EQ(from_ring.front().SerializeAsString(), (*all)[resume].SerializeAsString());
}

TEST_F(EngineTest, FullDiskRefusesCleanlyAndLeavesNothingHalfWritten) {
  devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
  posd::v1::Order order = PlacedOrder(1000);
  const uint64_t head = engine_->broadcaster().head();
  // No page may be added: the next write that needs one fails.
  POSD_ASSERT_OK(engine_->RunWrite([](store::Database& db) {
    auto pages = db.QueryInt64("PRAGMA page_count");
    if (!pages.ok()) return pages.status();
    return db.Execute("PRAGMA max_page_count = " + std::to_string(*pages));
  }));
  posd::v1::CreateOrderRequest big = OrderRequest("big");
  for (int i = 0; i < 200; ++i) {
    auto* line = big.mutable_order()->add_lines();
    line->set_sku(std::string(200, 'a' + static_cast<char>(i % 26)));
    line->set_quantity(1);
    line->mutable_unit_price()->set_amount_minor(1);
  }
  EXPECT_THAT(Call(&Engine::CreateOrder, big), StatusIs(Code::kResourceExhausted));
  EXPECT_EQ(engine_->broadcaster().head(), head);
  auto list = engine_->queries().ListOrders({});
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->orders_size(), 1);
  auto events = engine_->queries().ReadEvents(0, 10000);
  ASSERT_THAT(events, IsOk());
  EXPECT_EQ(events->size(), head);
  // Space again: the same request now goes through.
  POSD_ASSERT_OK(engine_->RunWrite(
      [](store::Database& db) { return db.Execute("PRAGMA max_page_count = 1073741823"); }));
  EXPECT_THAT(Call(&Engine::CreateOrder, big), IsOk());
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  EXPECT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
}

}  // namespace
}  // namespace posd::engine::testing
