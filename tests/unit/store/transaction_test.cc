#include "service/store/transaction.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/database.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/store/test_helpers.h"

namespace posd::store {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;

using Code = absl::StatusCode;

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(path(), {.create_if_missing = true,
                                      .busy_timeout = std::chrono::milliseconds(0)});
    ASSERT_THAT(db, IsOk());
    db_ = *std::move(db);
    POSD_ASSERT_OK(db_->Execute("PRAGMA journal_mode = WAL"));
    POSD_ASSERT_OK(db_->Execute("CREATE TABLE t (v INTEGER) STRICT"));
  }
  std::string path() const { return dir_.File("t.db").string(); }
  int64_t Count() { return *db_->QueryInt64("SELECT count(*) FROM t"); }

  posd::testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(TransactionTest, CommitKeepsChanges) {
  auto tx = Transaction::Begin(*db_);
  ASSERT_THAT(tx, IsOk());
  EXPECT_TRUE(db_->in_transaction());
  POSD_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
  POSD_ASSERT_OK(tx->Commit());
  EXPECT_FALSE(tx->active());
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(Count(), 1);
  EXPECT_THAT(tx->Commit(), StatusIs(Code::kFailedPrecondition));
}

TEST_F(TransactionTest, DestructionWithoutCommitRollsBack) {
  {
    auto tx = Transaction::Begin(*db_);
    ASSERT_THAT(tx, IsOk());
    POSD_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
    EXPECT_EQ(Count(), 1);
  }
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(Count(), 0);
}

TEST_F(TransactionTest, ExplicitRollbackDiscards) {
  auto tx = Transaction::Begin(*db_);
  ASSERT_THAT(tx, IsOk());
  POSD_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
  POSD_ASSERT_OK(tx->Rollback());
  EXPECT_EQ(Count(), 0);
  POSD_EXPECT_OK(tx->Rollback());  // idempotent
}

TEST_F(TransactionTest, MovedTransactionRollsBackOnce) {
  {
    auto tx = Transaction::Begin(*db_);
    ASSERT_THAT(tx, IsOk());
    Transaction moved = *std::move(tx);
    POSD_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
  }
  EXPECT_EQ(Count(), 0);
}

TEST_F(TransactionTest, NestedBeginIsFailedPrecondition) {
  auto tx = Transaction::Begin(*db_);
  ASSERT_THAT(tx, IsOk());
  EXPECT_THAT(Transaction::Begin(*db_), StatusIs(Code::kFailedPrecondition));
}

TEST_F(TransactionTest, SecondWriterIsUnavailableWhileFirstHoldsTheLock) {
  auto other = Database::Open(path(), {.busy_timeout = std::chrono::milliseconds(0)});
  ASSERT_THAT(other, IsOk());
  auto tx = Transaction::Begin(*db_);
  ASSERT_THAT(tx, IsOk());
  EXPECT_THAT(Transaction::Begin(**other), StatusIs(Code::kUnavailable));
  POSD_ASSERT_OK(tx->Commit());
  EXPECT_THAT(Transaction::Begin(**other), IsOk());
}

TEST_F(TransactionTest, ReaderSeesOnlyCommittedData) {
  auto reader = Database::Open(path(), {.read_only = true});
  ASSERT_THAT(reader, IsOk());
  auto tx = Transaction::Begin(*db_);
  ASSERT_THAT(tx, IsOk());
  POSD_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
  EXPECT_THAT((*reader)->QueryInt64("SELECT count(*) FROM t"), testing::IsOkAndHolds(0));
  POSD_ASSERT_OK(tx->Commit());
  EXPECT_THAT((*reader)->QueryInt64("SELECT count(*) FROM t"), testing::IsOkAndHolds(1));
}

}  // namespace
}  // namespace posd::store
