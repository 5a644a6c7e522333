#include "service/channel/result_ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::channel {
namespace {

using ::posd::testing::StatusIs;
namespace v1 = ::posd::link::v1;

ledger::Started Sale(std::string id, int64_t amount) {
  ledger::Started s;
  s.set_transaction_id(std::move(id));
  s.set_kind(ledger::TRANSACTION_KIND_SALE);
  s.set_amount_minor(amount);
  s.set_currency_code("EUR");
  return s;
}

v1::Result Approved(std::string id, int64_t amount) {
  v1::Result r;
  r.set_transaction_id(std::move(id));
  r.set_outcome(v1::OUTCOME_APPROVED);
  r.set_amount_minor(amount);
  r.set_currency_code("EUR");
  return r;
}

TEST(ResultLedger, SurvivesReopen) {
  posd::testing::TempDir dir;
  FakeClock clock;
  {
    auto ledger = ResultLedger::Open(dir.File("ledger"), clock);
    POSD_ASSERT_OK(ledger);
    POSD_ASSERT_OK((*ledger)->RecordStarted(Sale("pay_1", 100)));
    POSD_ASSERT_OK((*ledger)->RecordFinished(Approved("pay_1", 100)));
    POSD_ASSERT_OK((*ledger)->RecordStarted(Sale("pay_2", 200)));
  }
  auto ledger = ResultLedger::Open(dir.File("ledger"), clock);
  POSD_ASSERT_OK(ledger);
  ASSERT_NE((*ledger)->Find("pay_1"), nullptr);
  EXPECT_EQ((*ledger)->Find("pay_1")->result().outcome(), v1::OUTCOME_APPROVED);
  EXPECT_THAT((*ledger)->Unfinished(), ::testing::ElementsAre("pay_2"));
  EXPECT_EQ((*ledger)->approved_count(), 1u);
}

TEST(ResultLedger, RefusesToRecordTwice) {
  posd::testing::TempDir dir;
  FakeClock clock;
  auto ledger = ResultLedger::Open(dir.File("ledger"), clock);
  POSD_ASSERT_OK(ledger);
  POSD_ASSERT_OK((*ledger)->RecordStarted(Sale("pay_1", 100)));
  EXPECT_THAT((*ledger)->RecordStarted(Sale("pay_1", 100)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT((*ledger)->RecordFinished(Approved("pay_9", 1)),
              StatusIs(absl::StatusCode::kNotFound));
  POSD_ASSERT_OK((*ledger)->RecordFinished(Approved("pay_1", 100)));
  EXPECT_THAT((*ledger)->RecordFinished(Approved("pay_1", 100)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ResultLedger, DropsATornTailAndKeepsWorking) {
  posd::testing::TempDir dir;
  FakeClock clock;
  const auto path = dir.File("ledger");
  {
    auto ledger = ResultLedger::Open(path, clock);
    POSD_ASSERT_OK(ledger);
    POSD_ASSERT_OK((*ledger)->RecordStarted(Sale("pay_1", 100)));
    POSD_ASSERT_OK((*ledger)->RecordFinished(Approved("pay_1", 100)));
  }
  const auto good_size = std::filesystem::file_size(path);
  {
    // Half a record, as a crash in the middle of write() leaves it.
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write("\x30\x00\x00\x00\x12\x34", 6);
  }
  {
    auto ledger = ResultLedger::Open(path, clock);
    POSD_ASSERT_OK(ledger);
    EXPECT_EQ(std::filesystem::file_size(path), good_size);
    POSD_ASSERT_OK((*ledger)->RecordStarted(Sale("pay_2", 5)));
  }
  auto all = ResultLedger::ReadTransactions(path);
  POSD_ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].request().transaction_id(), "pay_1");
  EXPECT_EQ((*all)[1].request().transaction_id(), "pay_2");
}

TEST(ResultLedger, IsExclusiveAndChecksItsFormat) {
  posd::testing::TempDir dir;
  FakeClock clock;
  auto first = ResultLedger::Open(dir.File("ledger"), clock);
  POSD_ASSERT_OK(first);
  EXPECT_THAT(ResultLedger::Open(dir.File("ledger"), clock),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  {
    std::ofstream out(dir.File("other"));
    out << "not a ledger";
  }
  EXPECT_THAT(ResultLedger::Open(dir.File("other"), clock), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ResultLedger::Open(dir.File("missing/ledger"), clock),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(ResultLedger, SumsApprovedRefunds) {
  posd::testing::TempDir dir;
  FakeClock clock;
  auto ledger = ResultLedger::Open(dir.File("ledger"), clock);
  POSD_ASSERT_OK(ledger);
  POSD_ASSERT_OK((*ledger)->RecordStarted(Sale("pay_1", 1000)));
  POSD_ASSERT_OK((*ledger)->RecordFinished(Approved("pay_1", 1000)));
  ledger::Started refund = Sale("ref_1", 300);
  refund.set_kind(ledger::TRANSACTION_KIND_REFUND);
  refund.set_original_transaction_id("pay_1");
  POSD_ASSERT_OK((*ledger)->RecordStarted(refund));
  POSD_ASSERT_OK((*ledger)->RecordFinished(Approved("ref_1", 300)));
  EXPECT_EQ((*ledger)->RefundedMinor("pay_1"), 300);
}

}  // namespace
}  // namespace posd::channel
