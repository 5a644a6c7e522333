#include "service/store/migrations.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/database.h"
#include "service/store/store.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/store/test_helpers.h"

namespace posd::store {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

using Code = absl::StatusCode;

int64_t TableCount(Database& db, std::string_view table) {
  auto statement = db.Prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?");
  EXPECT_THAT(statement, IsOk());
  EXPECT_THAT(statement->BindText(1, table), IsOk());
  EXPECT_THAT(statement->Step(), testing::IsOkAndHolds(true));
  return statement->ColumnInt64(0);
}

TEST(MigrationsTest, ListIsOrderedWithoutGaps) {
  const auto migrations = AllMigrations();
  ASSERT_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(migrations[i].name.empty());
    EXPECT_FALSE(migrations[i].sql.empty());
  }
  EXPECT_EQ(Store::LatestSchemaVersion(), static_cast<int>(migrations.size()));
  EXPECT_GE(Store::LatestSchemaVersion(), 3);
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_.File("m.db").string(), {.create_if_missing = true});
    ASSERT_THAT(db, IsOk());
    db_ = *std::move(db);
  }
  posd::testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(MigrateTest, FromEmptyCreatesEveryTable) {
  POSD_ASSERT_OK(Migrate(*db_, AllMigrations()));
  EXPECT_THAT(db_->QueryInt64("PRAGMA user_version"), testing::IsOkAndHolds(Store::LatestSchemaVersion()));
  for (std::string_view table : {"posd_instance", "event_log", "audit_log", "idempotency_keys",
                                 "devices", "hook_runs", "orders", "order_lines", "payments",
                                 "refunds"}) {
    EXPECT_EQ(TableCount(*db_, table), 1) << table;
  }
  // Running again is a no-op.
  POSD_ASSERT_OK(Migrate(*db_, AllMigrations()));
}

TEST_F(MigrateTest, EachPrefixUpgradesToTheFullList) {
  for (size_t start = 1; start < AllMigrations().size(); ++start) {
    posd::testing::TempDir dir;
    auto db = Database::Open(dir.File("p.db").string(), {.create_if_missing = true});
    ASSERT_THAT(db, IsOk());
    POSD_ASSERT_OK(Migrate(**db, AllMigrations().first(start)));
    EXPECT_THAT((*db)->QueryInt64("PRAGMA user_version"), testing::IsOkAndHolds(static_cast<int64_t>(start)));
    POSD_ASSERT_OK(Migrate(**db, AllMigrations()));
    EXPECT_THAT((*db)->QueryInt64("PRAGMA user_version"), testing::IsOkAndHolds(Store::LatestSchemaVersion()));
  }
}

// Found by name: the version number may change when branches merge.
TEST_F(MigrateTest, AuditOutcomesMarkEarlierRecordsSucceeded) {
  const auto migrations = AllMigrations();
  size_t audit_step = migrations.size();
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].name == "audit outcome and request ids") audit_step = i;
  }
  ASSERT_LT(audit_step, migrations.size());
  POSD_ASSERT_OK(Migrate(*db_, migrations.first(audit_step)));
  POSD_ASSERT_OK(db_->Execute(
      "INSERT INTO audit_log (at, actor, role, action, subject, reason, details) "
      "VALUES (1, 'anna', 'operator', 'refund_payment', 'pay_1', 'broken cup', 'refund')"));
  POSD_ASSERT_OK(Migrate(*db_, migrations));
  auto row = db_->Prepare("SELECT request_id, outcome, error_message FROM audit_log");
  ASSERT_THAT(row, IsOk());
  ASSERT_THAT(row->Step(), testing::IsOkAndHolds(true));
  EXPECT_EQ(row->ColumnText(0), "");
  EXPECT_EQ(row->ColumnText(1), "succeeded");
  EXPECT_EQ(row->ColumnText(2), "");
  // Only the two outcomes the API knows can be stored.
  EXPECT_THAT(db_->Execute("INSERT INTO audit_log (at, actor, role, action, subject, outcome) "
                           "VALUES (2, 'anna', 'operator', 'refund_payment', 'pay_1', 'maybe')"),
              ::testing::Not(IsOk()));
}

TEST_F(MigrateTest, FailedStepLeavesTheOldVersionAndNoPartialTables) {
  POSD_ASSERT_OK(Migrate(*db_, AllMigrations().first(1)));
  const Migration broken[] = {
      AllMigrations()[0],
      {2, "half done", "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);"},
  };
  EXPECT_THAT(Migrate(*db_, broken),
              StatusIs(Code::kInternal, HasSubstr("migration to schema version 2 (half done) "
                                                  "failed, database left at version 1")));
  EXPECT_THAT(db_->QueryInt64("PRAGMA user_version"), testing::IsOkAndHolds(1));
  EXPECT_EQ(TableCount(*db_, "half"), 0);
  EXPECT_FALSE(db_->in_transaction());
}

TEST_F(MigrateTest, NewerVersionIsRefused) {
  POSD_ASSERT_OK(db_->Execute("PRAGMA user_version = 99"));
  EXPECT_THAT(Migrate(*db_, AllMigrations()),
              StatusIs(Code::kFailedPrecondition, HasSubstr("schema version 99, newer")));
  EXPECT_THAT(db_->QueryInt64("PRAGMA user_version"), testing::IsOkAndHolds(99));
}

TEST_F(MigrateTest, MalformedListIsInternal) {
  const Migration gap[] = {AllMigrations()[0], {3, "gap", "SELECT 1"}};
  EXPECT_THAT(Migrate(*db_, gap), StatusIs(Code::kInternal, HasSubstr("malformed")));
  EXPECT_THAT(db_->QueryInt64("PRAGMA user_version"), testing::IsOkAndHolds(0));
}

}  // namespace
}  // namespace posd::store
