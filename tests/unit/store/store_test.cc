#include "service/store/store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/transaction.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/store/test_helpers.h"

namespace posd::store {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

using Code = absl::StatusCode;
namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  StoreOptions Options() const {
    StoreOptions options;
    options.path = path();
    options.clock = &clock_;
    return options;
  }
  std::string path() const { return dir_.File("posd.db").string(); }

  std::unique_ptr<Store> OpenOrDie(const StoreOptions& options) {
    auto store = Store::Open(options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  static absl::Status AppendEvent(Database& db, std::string_view subject, std::string_view payload) {
    auto insert = db.Prepare(
        "INSERT INTO event_log (occurred_at, kind, subject_id, payload) "
        "VALUES (1, 'test', :subject, :payload)");
    if (!insert.ok()) return insert.status();
    if (auto s = insert->BindText(":subject", subject); !s.ok()) return s;
    if (auto s = insert->BindBlob(":payload", payload); !s.ok()) return s;
    return insert->Run();
  }

  static int64_t EventCount(Database& db) {
    return *db.QueryInt64("SELECT count(*) FROM event_log");
  }

  posd::testing::TempDir dir_;
  FakeClock clock_;
};

TEST_F(StoreTest, OpenCreatesAFreshDatabaseAtTheLatestVersion) {
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), Store::LatestSchemaVersion());
  EXPECT_EQ(store->path(), path());
  EXPECT_THAT(store->instance_id(),
              MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  Database& db = store->writer();
  EXPECT_THAT(db.QueryInt64("PRAGMA user_version"), testing::IsOkAndHolds(Store::LatestSchemaVersion()));
  EXPECT_THAT(db.QueryInt64("PRAGMA application_id"), testing::IsOkAndHolds(Store::kApplicationId));
  EXPECT_THAT(db.QueryInt64("SELECT created_at FROM posd_instance"),
              testing::IsOkAndHolds(int64_t{1'700'000'000'000}));
}

TEST_F(StoreTest, WriterUsesWalFullSyncAndForeignKeys) {
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  Database& db = store->writer();
  EXPECT_THAT(db.QueryText("PRAGMA journal_mode"), testing::IsOkAndHolds(std::string("wal")));
  EXPECT_THAT(db.QueryInt64("PRAGMA synchronous"), testing::IsOkAndHolds(2));  // FULL
  EXPECT_THAT(db.QueryInt64("PRAGMA foreign_keys"), testing::IsOkAndHolds(1));
  EXPECT_THAT(db.QueryInt64("PRAGMA busy_timeout"), testing::IsOkAndHolds(5000));
}

TEST_F(StoreTest, ReopenKeepsInstanceIdAndData) {
  std::string instance_id;
  {
    auto store = OpenOrDie(Options());
    ASSERT_NE(store, nullptr);
    instance_id = store->instance_id();
    POSD_ASSERT_OK(AppendEvent(store->writer(), "order-1", "payload"));
  }
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->instance_id(), instance_id);
  EXPECT_EQ(EventCount(store->writer()), 1);
}

TEST_F(StoreTest, MissingFileWithoutCreateIsNotFound) {
  StoreOptions options = Options();
  options.create_if_missing = false;
  EXPECT_THAT(Store::Open(options), StatusIs(Code::kNotFound, HasSubstr(path())));
  EXPECT_FALSE(fs::exists(path()));
}

TEST_F(StoreTest, EmptyPathIsInvalidArgument) {
  EXPECT_THAT(Store::Open(StoreOptions{}), StatusIs(Code::kInvalidArgument));
}

TEST_F(StoreTest, UpgradesAVersionOneDatabaseAndKeepsItsData) {
  std::string instance_id;
  {
    StoreOptions v1 = Options();
    v1.migrations = AllMigrations().first(1);
    auto store = OpenOrDie(v1);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->schema_version(), 1);
    instance_id = store->instance_id();
    POSD_ASSERT_OK(AppendEvent(store->writer(), "order-1", "first"));
    POSD_ASSERT_OK(store->writer().Execute(
        "INSERT INTO audit_log (at, actor, role, action, subject) "
        "VALUES (1, 'ann', 'operator', 'refund', 'payment-1');"
        "INSERT INTO idempotency_keys (request_id, method, request_hash, response, created_at) "
        "VALUES ('req-1', 'Pay', x'01', x'02', 1);"));
    EXPECT_THAT(store->writer().QueryInt64(
                    "SELECT count(*) FROM sqlite_schema WHERE name = 'devices'"),
                testing::IsOkAndHolds(0));
  }
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), Store::LatestSchemaVersion());
  EXPECT_EQ(store->instance_id(), instance_id);
  Database& db = store->writer();
  EXPECT_THAT(db.QueryText("SELECT payload FROM event_log WHERE subject_id = 'order-1'"),
              testing::IsOkAndHolds(std::string("first")));
  EXPECT_THAT(db.QueryText("SELECT actor FROM audit_log"), testing::IsOkAndHolds(std::string("ann")));
  EXPECT_THAT(db.QueryText("SELECT method FROM idempotency_keys"), testing::IsOkAndHolds(std::string("Pay")));
  POSD_EXPECT_OK(db.Execute(
      "INSERT INTO devices (id, name, transport, serial_port, serial_baud, created_at, updated_at) "
      "VALUES ('t1', 'Till 1', 'serial', '/dev/ttyUSB0', 115200, 1, 1);"
      "INSERT INTO hook_runs (hook_point, plugin, subject_id, idempotency_key, state, "
      "next_attempt_at, created_at, updated_at) "
      "VALUES ('afterPayment', 'receipt', 'payment-1', 'k1', 'pending', 1, 1, 1);"));
  // The new v2 constraints hold.
  EXPECT_THAT(db.Execute("INSERT INTO devices (id, name, transport, created_at, updated_at) "
                         "VALUES ('t2', 'Till 2', 'websocket', 1, 1)"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("CHECK")));
  EXPECT_THAT(db.Execute("INSERT INTO hook_runs (hook_point, plugin, subject_id, "
                         "idempotency_key, state, next_attempt_at, created_at, updated_at) "
                         "VALUES ('afterPayment', 'receipt', 'payment-1', 'k1', 'pending', 1, 1, 1)"),
              StatusIs(Code::kAlreadyExists));
}

TEST_F(StoreTest, KeepsACopyOfTheOldDatabaseBeforeUpgradingItsSchema) {
  {
    StoreOptions v1 = Options();
    v1.migrations = AllMigrations().first(1);
    auto store = OpenOrDie(v1);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->migration_backup_path(), "") << "a fresh database needs no backup";
    POSD_ASSERT_OK(AppendEvent(store->writer(), "order-1", "before the upgrade"));
  }
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  const std::string backup = store->migration_backup_path();
  EXPECT_EQ(backup, Options().path + ".schema-v1.bak");
  store.reset();
  // The copy is the old database: version 1, its data, openable by a v1 posd.
  StoreOptions old_binary = Options();
  old_binary.path = backup;
  old_binary.create_if_missing = false;
  old_binary.migrations = AllMigrations().first(1);
  auto restored = OpenOrDie(old_binary);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->schema_version(), 1);
  EXPECT_THAT(restored->writer().QueryText("SELECT payload FROM event_log"),
              testing::IsOkAndHolds(std::string("before the upgrade")));
  restored.reset();
  // Opening an up-to-date database makes no copy.
  auto again = OpenOrDie(Options());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->migration_backup_path(), "");
}

TEST_F(StoreTest, FailedMigrationLeavesTheOldVersionForTheNextOpen) {
  { ASSERT_NE(OpenOrDie(Options()), nullptr); }
  std::vector<Migration> broken(AllMigrations().begin(), AllMigrations().end());
  broken.push_back({static_cast<int>(broken.size()) + 1, "broken",
                    "CREATE TABLE orders_draft (id TEXT); INSERT INTO missing VALUES (1);"});
  StoreOptions options = Options();
  options.migrations = broken;
  EXPECT_THAT(Store::Open(options), StatusIs(Code::kInternal, HasSubstr("broken")));
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), Store::LatestSchemaVersion());
  EXPECT_THAT(store->writer().QueryInt64(
                  "SELECT count(*) FROM sqlite_schema WHERE name = 'orders_draft'"),
              testing::IsOkAndHolds(0));
}

TEST_F(StoreTest, NewerSchemaIsRefusedAndTheFileIsUntouched) {
  {
    auto store = OpenOrDie(Options());
    ASSERT_NE(store, nullptr);
    POSD_ASSERT_OK(store->writer().Execute(
        absl::StrCat("PRAGMA user_version = ", Store::LatestSchemaVersion() + 1)));
  }
  const std::string before = testing::ReadBytes(path());
  EXPECT_THAT(Store::Open(Options()),
              StatusIs(Code::kFailedPrecondition,
                       AllOf(HasSubstr(path()),
                             HasSubstr(absl::StrCat("schema version ",
                                                    Store::LatestSchemaVersion() + 1)),
                             HasSubstr("newer than this posd knows"))));
  EXPECT_EQ(testing::ReadBytes(path()), before);
}

TEST_F(StoreTest, RandomBytesAreRefusedAsDataLossAndUntouched) {
  std::mt19937 random(42);
  std::string garbage(8192, '\0');
  for (char& c : garbage) c = static_cast<char>(random());
  testing::WriteBytes(path(), garbage);
  EXPECT_THAT(Store::Open(Options()),
              StatusIs(Code::kDataLoss, AllOf(HasSubstr(path()),
                                              HasSubstr("not an SQLite database"))));
  EXPECT_EQ(testing::ReadBytes(path()), garbage);
  EXPECT_FALSE(fs::exists(path() + "-wal"));
}

TEST_F(StoreTest, OverwrittenPageIsRefusedAsDataLossAndUntouched) {
  int64_t root_page = 0;
  int64_t page_size = 0;
  {
    auto store = OpenOrDie(Options());
    ASSERT_NE(store, nullptr);
    auto tx = Transaction::Begin(store->writer());
    ASSERT_THAT(tx, IsOk());
    for (int i = 0; i < 200; ++i) {
      POSD_ASSERT_OK(AppendEvent(store->writer(), absl::StrCat("order-", i), std::string(500, 'p')));
    }
    POSD_ASSERT_OK(tx->Commit());
    root_page = *store->writer().QueryInt64(
        "SELECT rootpage FROM sqlite_schema WHERE name = 'event_log'");
    page_size = *store->writer().QueryInt64("PRAGMA page_size");
  }
  ASSERT_FALSE(fs::exists(path() + "-wal")) << "closing the last connection checkpoints";
  testing::OverwriteAt(path(), (root_page - 1) * page_size,
                       std::string(static_cast<size_t>(page_size), '\xab'));
  const std::string before = testing::ReadBytes(path());
  EXPECT_THAT(Store::Open(Options()),
              StatusIs(Code::kDataLoss, AllOf(HasSubstr(path()), HasSubstr("integrity"))));
  EXPECT_EQ(testing::ReadBytes(path()), before);
}

TEST_F(StoreTest, ForeignSqliteDatabaseIsRefusedAndUntouched) {
  {
    auto other = Database::Open(path(), {.create_if_missing = true});
    ASSERT_THAT(other, IsOk());
    POSD_ASSERT_OK((*other)->Execute("CREATE TABLE recipes (name TEXT); "
                                     "INSERT INTO recipes VALUES ('soup');"));
  }
  const std::string before = testing::ReadBytes(path());
  EXPECT_THAT(Store::Open(Options()),
              StatusIs(Code::kFailedPrecondition,
                       AllOf(HasSubstr(path()), HasSubstr("another application"))));
  EXPECT_EQ(testing::ReadBytes(path()), before);
  EXPECT_FALSE(fs::exists(path() + "-wal"));
}

TEST_F(StoreTest, SqliteDatabaseWithAnotherApplicationIdIsRefusedAndUntouched) {
  {
    auto other = Database::Open(path(), {.create_if_missing = true});
    ASSERT_THAT(other, IsOk());
    POSD_ASSERT_OK((*other)->Execute("PRAGMA application_id = 1234; CREATE TABLE t (x);"));
  }
  const std::string before = testing::ReadBytes(path());
  EXPECT_THAT(Store::Open(Options()), StatusIs(Code::kFailedPrecondition,
                                               HasSubstr("application_id 0x000004d2")));
  EXPECT_EQ(testing::ReadBytes(path()), before);
}

TEST_F(StoreTest, EmptyExistingFileIsInitialised) {
  testing::WriteBytes(path(), "");
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), Store::LatestSchemaVersion());
}

TEST_F(StoreTest, SecondOpenFailsFastUntilTheFirstCloses) {
  auto first = OpenOrDie(Options());
  ASSERT_NE(first, nullptr);
  StoreOptions options = Options();
  options.busy_timeout = std::chrono::milliseconds(60'000);  // must not be waited for
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THAT(Store::Open(options),
              StatusIs(Code::kFailedPrecondition,
                       absl::StrCat("database ", path(), " is already in use by another posd (pid ",
                                    getpid(), ")")));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  first.reset();
  EXPECT_THAT(Store::Open(Options()), IsOk());
}

TEST_F(StoreTest, SecondProcessIsRefusedWhileOpen) {
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    StoreOptions options;
    options.path = path();
    auto second = Store::Open(options);
    _exit(second.status().code() == Code::kFailedPrecondition &&
                  second.status().message().find("already in use") != std::string_view::npos
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(StoreTest, FullDiskFailsCleanlyAndKeepsTheOldData) {
  {
    auto store = OpenOrDie(Options());
    ASSERT_NE(store, nullptr);
    Database& db = store->writer();
    POSD_ASSERT_OK(AppendEvent(db, "order-1", "kept"));
    const int64_t pages = *db.QueryInt64("PRAGMA page_count");
    POSD_ASSERT_OK(db.Execute(absl::StrCat("PRAGMA max_page_count = ", pages + 1)));
    {
      auto tx = Transaction::Begin(db);
      ASSERT_THAT(tx, IsOk());
      POSD_ASSERT_OK(AppendEvent(db, "order-2", "small"));
      EXPECT_THAT(AppendEvent(db, "order-3", std::string(64 * 1024, 'x')),
                  StatusIs(Code::kResourceExhausted,
                           AllOf(HasSubstr("database disk is full"), HasSubstr(path()))));
    }  // rolls back order-2 too
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(EventCount(db), 1);
  }
  auto store = OpenOrDie(Options());  // runs quick_check
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->writer().QueryText("SELECT payload FROM event_log"),
              testing::IsOkAndHolds(std::string("kept")));
}

TEST_F(StoreTest, ReadOnlyFileIsReportedClearlyAndUntouched) {
  { ASSERT_NE(OpenOrDie(Options()), nullptr); }
  fs::permissions(path(), fs::perms::owner_read | fs::perms::group_read);
  const std::string before = testing::ReadBytes(path());
  {
    testing::ScopedWithoutDacOverride no_root_bypass;
    EXPECT_THAT(Store::Open(Options()),
                StatusIs(Code::kPermissionDenied,
                         AllOf(HasSubstr(path()), HasSubstr("is read-only"),
                               HasSubstr("Permission denied"))));
  }
  EXPECT_EQ(testing::ReadBytes(path()), before);
}

TEST_F(StoreTest, UnwritableFolderIsReportedClearly) {
  const fs::path folder = dir_.File("ro");
  fs::create_directory(folder);
  fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec);
  StoreOptions options = Options();
  options.path = (folder / "posd.db").string();
  testing::ScopedWithoutDacOverride no_root_bypass;
  EXPECT_THAT(Store::Open(options), StatusIs(Code::kPermissionDenied, HasSubstr(options.path)));
}

TEST_F(StoreTest, ReadersSeeCommittedDataAndCannotWrite) {
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  auto reader = store->OpenReader();
  ASSERT_THAT(reader, IsOk());
  EXPECT_TRUE((*reader)->read_only());
  EXPECT_THAT((*reader)->QueryText("PRAGMA journal_mode"), testing::IsOkAndHolds(std::string("wal")));
  {
    auto tx = Transaction::Begin(store->writer());
    ASSERT_THAT(tx, IsOk());
    POSD_ASSERT_OK(AppendEvent(store->writer(), "order-1", "p"));
    EXPECT_EQ(EventCount(**reader), 0);
    POSD_ASSERT_OK(tx->Commit());
  }
  EXPECT_EQ(EventCount(**reader), 1);
  EXPECT_THAT(AppendEvent(**reader, "order-2", "p"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("read-only")));
  EXPECT_EQ(EventCount(store->writer()), 1);
}

TEST_F(StoreTest, EventSequenceIsMonotonic) {
  auto store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  Database& db = store->writer();
  POSD_ASSERT_OK(AppendEvent(db, "a", "1"));
  POSD_ASSERT_OK(AppendEvent(db, "a", "2"));
  const int64_t last = db.last_insert_rowid();
  POSD_ASSERT_OK(db.Execute(absl::StrCat("DELETE FROM event_log WHERE sequence = ", last)));
  POSD_ASSERT_OK(AppendEvent(db, "a", "3"));
  EXPECT_GT(db.last_insert_rowid(), last);
}

}  // namespace
}  // namespace posd::store
