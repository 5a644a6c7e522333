// The store on a real, tiny file system: a tmpfs mounted in a private mount
// namespace, so filling it or making it read-only touches nothing outside
// this test process. The namespace disappears with the process.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/store.h"
#include "service/store/transaction.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_filesystem.h"

namespace posd::store {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Code = absl::StatusCode;
namespace fs = std::filesystem;

// Why the namespace could not be set up, or empty when it was.
std::string& NamespaceProblem() {
  static std::string problem;
  return problem;
}

std::string ReadBytes(const fs::path& path) {
  std::string bytes;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return bytes;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) bytes.append(buffer, static_cast<size_t>(n));
  close(fd);
  return bytes;
}

class StoreOnTmpfsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { NamespaceProblem() = posd::testing::EnterPrivateMountNamespace(); }

  void SetUp() override {
    if (!NamespaceProblem().empty()) GTEST_SKIP() << NamespaceProblem();
    auto mounted = posd::testing::TinyFilesystem::Mount(dir_.File("fs"), "size=1m,mode=0700");
    ASSERT_THAT(mounted.status(), IsOk());
    fs_ = *std::move(mounted);
    mount_point_ = fs_->root();
  }

  void Remount(bool read_only) { ASSERT_THAT(fs_->SetReadOnly(read_only), IsOk()); }
  void FillFileSystem() { ASSERT_THAT(fs_->Fill(), IsOk()); }
  void FreeFileSystem() { fs_->Free(); }

  StoreOptions Options() const {
    StoreOptions options;
    options.path = (mount_point_ / "posd.db").string();
    return options;
  }

  static absl::Status AppendEvent(Database& db, std::string_view payload) {
    auto insert = db.Prepare(
        "INSERT INTO event_log (occurred_at, kind, subject_id, payload) "
        "VALUES (1, 'test', 'order-1', ?)");
    if (!insert.ok()) return insert.status();
    if (auto status = insert->BindBlob(1, payload); !status.ok()) return status;
    return insert->Run();
  }

  static int64_t EventCount(Database& db) {
    return *db.QueryInt64("SELECT count(*) FROM event_log");
  }

  posd::testing::TempDir dir_;
  std::unique_ptr<posd::testing::TinyFilesystem> fs_;
  fs::path mount_point_;
};

TEST_F(StoreOnTmpfsTest, FullDiskFailsTheCommitAndKeepsTheOldData) {
  auto store = Store::Open(Options());
  ASSERT_THAT(store, IsOk());
  Database& db = (*store)->writer();
  POSD_ASSERT_OK(AppendEvent(db, "before"));
  ASSERT_NO_FATAL_FAILURE(FillFileSystem());

  absl::Status written = [&]() -> absl::Status {
    auto tx = Transaction::Begin(db);
    if (!tx.ok()) return tx.status();
    for (int i = 0; i < 4; ++i) {
      if (auto status = AppendEvent(db, std::string(128 * 1024, 'x')); !status.ok()) return status;
    }
    return tx->Commit();
  }();
  EXPECT_THAT(written, StatusIs(Code::kResourceExhausted,
                                AllOf(HasSubstr("database disk is full"),
                                      HasSubstr(Options().path))));
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(EventCount(db), 1);

  // Once space is back the same connection writes again, without a restart.
  FreeFileSystem();
  POSD_ASSERT_OK(AppendEvent(db, "after"));
  EXPECT_EQ(EventCount(db), 2);
  store->reset();

  auto reopened = Store::Open(Options());  // runs quick_check
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ(EventCount((*reopened)->writer()), 2);
  EXPECT_THAT((*reopened)->writer().QueryText("PRAGMA integrity_check"), IsOk());
  EXPECT_EQ(*(*reopened)->writer().QueryText("PRAGMA integrity_check"), "ok");
}

TEST_F(StoreOnTmpfsTest, CreatingOnAFullDiskFailsAndCanBeRetried) {
  ASSERT_NO_FATAL_FAILURE(FillFileSystem());
  EXPECT_THAT(Store::Open(Options()), StatusIs(Code::kResourceExhausted));
  FreeFileSystem();
  auto store = Store::Open(Options());
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->schema_version(), Store::LatestSchemaVersion());
}

// The upgrade cannot even start here (SQLite cannot recreate its -shm file);
// what matters is that the refusal leaves a database the old binary still
// opens with its data. A migration failing midway is covered by the unit
// tests.
TEST_F(StoreOnTmpfsTest, FullDiskDuringUpgradeLeavesTheOldVersion) {
  {
    StoreOptions v1 = Options();
    v1.migrations = AllMigrations().first(1);
    auto store = Store::Open(v1);
    ASSERT_THAT(store, IsOk());
    POSD_ASSERT_OK(AppendEvent((*store)->writer(), "v1 data"));
  }
  ASSERT_NO_FATAL_FAILURE(FillFileSystem());
  const absl::Status upgrade = Store::Open(Options()).status();
  EXPECT_THAT(upgrade, StatusIs(Code::kResourceExhausted));
  FreeFileSystem();

  StoreOptions v1 = Options();
  v1.migrations = AllMigrations().first(1);
  auto store = Store::Open(v1);  // still version 1, so the v1 binary opens it
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->schema_version(), 1);
  EXPECT_EQ(EventCount((*store)->writer()), 1);
}

TEST_F(StoreOnTmpfsTest, ReadOnlyFileSystemIsReportedClearlyAndUntouched) {
  {
    auto store = Store::Open(Options());
    ASSERT_THAT(store, IsOk());
    POSD_ASSERT_OK(AppendEvent((*store)->writer(), "kept"));
  }
  ASSERT_NO_FATAL_FAILURE(Remount(true));
  const std::string before = ReadBytes(Options().path);
  EXPECT_THAT(Store::Open(Options()),
              StatusIs(Code::kFailedPrecondition,
                       AllOf(HasSubstr(Options().path), HasSubstr("Read-only file system"))));
  EXPECT_EQ(ReadBytes(Options().path), before);

  ASSERT_NO_FATAL_FAILURE(Remount(false));
  auto store = Store::Open(Options());
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(EventCount((*store)->writer()), 1);
}

}  // namespace
}  // namespace posd::store
