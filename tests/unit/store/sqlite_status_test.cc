#include "service/store/sqlite_status.h"

#include <errno.h>
#include <sqlite3.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::store {
namespace {

using ::posd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

TEST(SqliteStatusTest, MapsEachFamilyToItsMostSpecificCode) {
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_FULL, 0), Code::kResourceExhausted);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_READONLY, 0), Code::kFailedPrecondition);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_READONLY_DBMOVED, 0), Code::kFailedPrecondition);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_BUSY, 0), Code::kUnavailable);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_BUSY_SNAPSHOT, 0), Code::kUnavailable);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_LOCKED, 0), Code::kUnavailable);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_CORRUPT, 0), Code::kDataLoss);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_NOTADB, 0), Code::kDataLoss);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_CONSTRAINT_UNIQUE, 0), Code::kAlreadyExists);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_CONSTRAINT_PRIMARYKEY, 0), Code::kAlreadyExists);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_CONSTRAINT_FOREIGNKEY, 0), Code::kFailedPrecondition);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_CONSTRAINT_CHECK, 0), Code::kFailedPrecondition);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_CONSTRAINT_NOTNULL, 0), Code::kInvalidArgument);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_RANGE, 0), Code::kOutOfRange);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_PERM, 0), Code::kPermissionDenied);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_INTERRUPT, 0), Code::kCancelled);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_ERROR, 0), Code::kInternal);
}

TEST(SqliteStatusTest, RefinesIoAndOpenErrorsWithErrno) {
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_IOERR_WRITE, ENOSPC), Code::kResourceExhausted);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_IOERR_WRITE, EROFS), Code::kFailedPrecondition);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_IOERR_FSYNC, EIO), Code::kUnavailable);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_CANTOPEN, EACCES), Code::kPermissionDenied);
  EXPECT_EQ(SqliteCodeToStatusCode(SQLITE_CANTOPEN, ENOENT), Code::kNotFound);
}

TEST(SqliteStatusTest, MessageNamesProblemFileOperationAndSqliteError) {
  EXPECT_THAT(SqliteStatus(SQLITE_FULL, 0, "/x/posd.db", "commit", "database or disk is full"),
              StatusIs(Code::kResourceExhausted,
                       AllOf(HasSubstr("database disk is full: /x/posd.db: commit"),
                             HasSubstr("database or disk is full"), HasSubstr("SQLITE_FULL"))));
  EXPECT_THAT(SqliteStatus(SQLITE_IOERR_WRITE, ENOSPC, "/x/posd.db", "insert", "disk I/O error"),
              StatusIs(Code::kResourceExhausted,
                       AllOf(HasSubstr("database disk is full"), HasSubstr("errno 28"))));
  EXPECT_TRUE(SqliteStatus(SQLITE_OK, 0, "/x", "noop", "").ok());
}

}  // namespace
}  // namespace posd::store
