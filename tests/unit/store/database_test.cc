#include "service/store/database.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/statement.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/store/test_helpers.h"

namespace posd::store {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_.File("t.db").string(), {.create_if_missing = true});
    ASSERT_THAT(db, IsOk());
    db_ = *std::move(db);
    ASSERT_THAT(db_->Execute(R"sql(
      CREATE TABLE parent (id INTEGER PRIMARY KEY) STRICT;
      CREATE TABLE item (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        price INTEGER CHECK (price >= 0),
        weight REAL,
        data BLOB,
        parent_id INTEGER REFERENCES parent (id)
      ) STRICT;
      INSERT INTO parent (id) VALUES (1);
    )sql"),
                IsOk());
  }

  posd::testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DatabaseTest, OpenMissingFileWithoutCreateIsNotFound) {
  EXPECT_THAT(Database::Open(dir_.File("missing.db").string(), {}),
              StatusIs(Code::kNotFound, HasSubstr("missing.db")));
}

TEST_F(DatabaseTest, OpenWithEmptyPathIsInvalidArgument) {
  EXPECT_THAT(Database::Open("", {}), StatusIs(Code::kInvalidArgument));
}

TEST_F(DatabaseTest, ForeignKeysAreEnforced) {
  EXPECT_THAT(db_->QueryInt64("PRAGMA foreign_keys"), testing::IsOkAndHolds(1));
  EXPECT_THAT(db_->Execute("INSERT INTO item (name, parent_id) VALUES ('x', 42)"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("FOREIGN KEY")));
}

TEST_F(DatabaseTest, BindsByIndexAndNameAndReadsColumnsBack) {
  auto insert = db_->Prepare(
      "INSERT INTO item (name, price, weight, data, parent_id) "
      "VALUES (?1, :price, @weight, $data, ?5)");
  ASSERT_THAT(insert, IsOk());
  EXPECT_EQ(insert->parameter_count(), 5);
  const std::string blob("\0\1\2\xff", 4);
  POSD_ASSERT_OK(insert->BindText(1, "coffee"));
  POSD_ASSERT_OK(insert->BindInt64(":price", 350));
  POSD_ASSERT_OK(insert->BindDouble("@weight", 0.25));
  POSD_ASSERT_OK(insert->BindBlob("$data", blob));
  POSD_ASSERT_OK(insert->BindNull(5));
  POSD_ASSERT_OK(insert->Run());
  EXPECT_EQ(db_->changes(), 1);
  const int64_t id = db_->last_insert_rowid();

  auto select = db_->Prepare("SELECT name, price, weight, data, parent_id FROM item WHERE id = ?");
  ASSERT_THAT(select, IsOk());
  POSD_ASSERT_OK(select->BindInt64(1, id));
  ASSERT_THAT(select->Step(), testing::IsOkAndHolds(true));
  EXPECT_EQ(select->column_count(), 5);
  EXPECT_EQ(select->column_name(1), "price");
  EXPECT_EQ(select->ColumnText(0), "coffee");
  EXPECT_EQ(select->ColumnInt64(1), 350);
  EXPECT_DOUBLE_EQ(select->ColumnDouble(2), 0.25);
  EXPECT_EQ(select->ColumnBlob(3), blob);
  EXPECT_TRUE(select->ColumnIsNull(4));
  EXPECT_FALSE(select->ColumnIsNull(0));
  EXPECT_THAT(select->Step(), testing::IsOkAndHolds(false));
}

TEST_F(DatabaseTest, EmptyTextAndBlobAreNotNull) {
  auto insert = db_->Prepare("INSERT INTO item (name, data) VALUES (?, ?)");
  ASSERT_THAT(insert, IsOk());
  POSD_ASSERT_OK(insert->BindText(1, std::string_view()));
  POSD_ASSERT_OK(insert->BindBlob(2, std::string_view()));
  POSD_ASSERT_OK(insert->Run());
  EXPECT_THAT(db_->QueryInt64("SELECT count(*) FROM item WHERE name = '' AND data IS NOT NULL"),
              testing::IsOkAndHolds(1));
}

TEST_F(DatabaseTest, ResetAllowsReuseWithFreshBindings) {
  auto insert = db_->Prepare("INSERT INTO item (name, price) VALUES (?, ?)");
  ASSERT_THAT(insert, IsOk());
  for (int i = 0; i < 3; ++i) {
    POSD_ASSERT_OK(insert->BindText(1, "item" + std::to_string(i)));
    POSD_ASSERT_OK(insert->BindInt64(2, i));
    POSD_ASSERT_OK(insert->Run());
    insert->Reset();
  }
  EXPECT_THAT(db_->QueryInt64("SELECT sum(price) FROM item"), testing::IsOkAndHolds(3));
}

TEST_F(DatabaseTest, BindingOutsideTheParametersIsOutOfRange) {
  auto insert = db_->Prepare("INSERT INTO item (name) VALUES (?)");
  ASSERT_THAT(insert, IsOk());
  EXPECT_THAT(insert->BindInt64(2, 1), StatusIs(Code::kOutOfRange, HasSubstr("parameter 2")));
  EXPECT_THAT(insert->BindText(0, "x"), StatusIs(Code::kOutOfRange));
}

TEST_F(DatabaseTest, BindingAnUnknownNameIsNotFound) {
  auto insert = db_->Prepare("INSERT INTO item (name) VALUES (:name)");
  ASSERT_THAT(insert, IsOk());
  EXPECT_THAT(insert->BindText(":nmae", "x"), StatusIs(Code::kNotFound, HasSubstr(":nmae")));
}

TEST_F(DatabaseTest, PrepareRejectsBadSqlAndSecondStatements) {
  EXPECT_THAT(db_->Prepare("SELEC 1"), StatusIs(Code::kInternal, HasSubstr("syntax error")));
  EXPECT_THAT(db_->Prepare("SELECT * FROM no_such_table"),
              StatusIs(Code::kInternal, HasSubstr("no_such_table")));
  EXPECT_THAT(db_->Prepare("SELECT 1; DELETE FROM item"),
              StatusIs(Code::kInvalidArgument, HasSubstr("more than one")));
  EXPECT_THAT(db_->Prepare("  -- nothing\n"), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(db_->Prepare("SELECT 1; -- trailing comment\n"), IsOk());
}

TEST_F(DatabaseTest, StepReportsConstraintViolationsWithSpecificCodes) {
  POSD_ASSERT_OK(db_->Execute("INSERT INTO item (name, price) VALUES ('a', 1)"));
  EXPECT_THAT(db_->Execute("INSERT INTO item (name, price) VALUES ('a', 2)"),
              StatusIs(Code::kAlreadyExists, HasSubstr("UNIQUE")));
  EXPECT_THAT(db_->Execute("INSERT INTO item (name, price) VALUES ('b', -1)"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("CHECK")));
  EXPECT_THAT(db_->Execute("INSERT INTO item (name) VALUES (NULL)"),
              StatusIs(Code::kInvalidArgument, HasSubstr("NOT NULL")));
  EXPECT_THAT(db_->Execute("INSERT INTO item (name, price) VALUES ('c', 'cheap')"),
              StatusIs(Code::kInvalidArgument));

  // A statement that failed can be reset and used again.
  auto insert = db_->Prepare("INSERT INTO item (name) VALUES (?)");
  ASSERT_THAT(insert, IsOk());
  POSD_ASSERT_OK(insert->BindText(1, "a"));
  EXPECT_THAT(insert->Step(), StatusIs(Code::kAlreadyExists));
  insert->Reset();
  POSD_ASSERT_OK(insert->BindText(1, "d"));
  EXPECT_THAT(insert->Run(), IsOk());
}

TEST_F(DatabaseTest, ErrorsNameTheDatabaseFile) {
  EXPECT_THAT(db_->Execute("INSERT INTO item (name) VALUES (NULL)"),
              StatusIs(Code::kInvalidArgument, HasSubstr(dir_.File("t.db").string())));
}

TEST_F(DatabaseTest, QueryHelpersReportMissingRows) {
  EXPECT_THAT(db_->QueryInt64("SELECT id FROM item WHERE id = 99"), StatusIs(Code::kNotFound));
  EXPECT_THAT(db_->QueryText("SELECT 'x'"), testing::IsOkAndHolds(std::string("x")));
}

TEST_F(DatabaseTest, ReadOnlyConnectionRefusesWrites) {
  auto reader = Database::Open(db_->path(), {.read_only = true});
  ASSERT_THAT(reader, IsOk());
  EXPECT_TRUE((*reader)->read_only());
  EXPECT_FALSE(db_->read_only());
  EXPECT_THAT((*reader)->QueryInt64("SELECT count(*) FROM parent"), testing::IsOkAndHolds(1));
  EXPECT_THAT((*reader)->Execute("INSERT INTO parent (id) VALUES (2)"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("read-only")));
  EXPECT_THAT(db_->QueryInt64("SELECT count(*) FROM parent"), testing::IsOkAndHolds(1));
}

TEST_F(DatabaseTest, StatementsMoveWithoutDoubleFinalize) {
  auto first = db_->Prepare("SELECT 7");
  ASSERT_THAT(first, IsOk());
  Statement moved = *std::move(first);
  Statement other = *db_->Prepare("SELECT 8");
  other = std::move(moved);
  ASSERT_THAT(other.Step(), testing::IsOkAndHolds(true));
  EXPECT_EQ(other.ColumnInt64(0), 7);
}

TEST_F(DatabaseTest, PreparingTheSameTextAgainReusesAResetStatementWithoutBindings) {
  ASSERT_THAT(db_->Execute("INSERT INTO item (name, price) VALUES ('a', 1), ('b', 2)"), IsOk());
  const std::string text = "SELECT name FROM item WHERE price >= ? ORDER BY price";
  const size_t before = db_->cached_texts();
  {
    auto first = db_->Prepare(text);
    ASSERT_THAT(first, IsOk());
    ASSERT_THAT(first->BindInt64(1, 0), IsOk());
    ASSERT_THAT(first->Step(), testing::IsOkAndHolds(true));
    EXPECT_EQ(first->ColumnText(0), "a");
    // Dropped halfway through its rows.
  }
  EXPECT_EQ(db_->cached_texts(), before + 1);
  auto again = db_->Prepare(text);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(db_->cached_texts(), before + 1);
  // No binding carried over: "price >= NULL" matches nothing.
  EXPECT_THAT(again->Step(), testing::IsOkAndHolds(false));
  again->Reset();
  ASSERT_THAT(again->BindInt64(1, 0), IsOk());
  // From the first row again, not where the earlier user stopped.
  ASSERT_THAT(again->Step(), testing::IsOkAndHolds(true));
  EXPECT_EQ(again->ColumnText(0), "a");
}

TEST_F(DatabaseTest, StatementsOfTheSameTextInUseTogetherAreIndependent) {
  ASSERT_THAT(db_->Execute("INSERT INTO item (name, price) VALUES ('a', 1), ('b', 2)"), IsOk());
  const std::string text = "SELECT name FROM item ORDER BY price";
  (void)db_->Prepare(text);  // cached and idle
  auto outer = db_->Prepare(text);
  auto inner = db_->Prepare(text);
  ASSERT_THAT(outer, IsOk());
  ASSERT_THAT(inner, IsOk());
  ASSERT_THAT(outer->Step(), testing::IsOkAndHolds(true));
  ASSERT_THAT(inner->Step(), testing::IsOkAndHolds(true));
  ASSERT_THAT(inner->Step(), testing::IsOkAndHolds(true));
  EXPECT_EQ(inner->ColumnText(0), "b");
  EXPECT_EQ(outer->ColumnText(0), "a");
  ASSERT_THAT(outer->Step(), testing::IsOkAndHolds(true));
  EXPECT_EQ(outer->ColumnText(0), "b");
}

TEST_F(DatabaseTest, ACachedStatementThatFailedWorksForTheNextUser) {
  const std::string text = "INSERT INTO item (name, price) VALUES (?, ?)";
  const std::vector<std::pair<std::string, Code>> inserts = {
      {"a", Code::kOk}, {"a", Code::kAlreadyExists}, {"b", Code::kOk}};
  for (const auto& [name, code] : inserts) {
    auto insert = db_->Prepare(text);
    ASSERT_THAT(insert, IsOk());
    ASSERT_THAT(insert->BindText(1, name), IsOk());
    ASSERT_THAT(insert->BindInt64(2, 1), IsOk());
    EXPECT_EQ(insert->Run().code(), code) << name;
  }
  EXPECT_THAT(db_->QueryInt64("SELECT count(*) FROM item"), testing::IsOkAndHolds(2));
}

TEST_F(DatabaseTest, OnlyABoundedNumberOfTextsIsCached) {
  for (size_t i = 0; i < Database::kMaxCachedTexts + 10; ++i) {
    EXPECT_THAT(db_->QueryInt64("SELECT " + std::to_string(i)),
                testing::IsOkAndHolds(static_cast<int64_t>(i)));
  }
  EXPECT_EQ(db_->cached_texts(), Database::kMaxCachedTexts);
}

}  // namespace
}  // namespace posd::store
