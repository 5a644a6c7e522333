// The store on a real, tiny file system: a tmpfs mounted in a private mount
// namespace, so filling it or making it read-only touches nothing outside
// this test process. The namespace disappears with the process.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/store.h"
#include "service/store/transaction.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

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
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      NamespaceProblem() = "needs root for a private mount namespace";
      return;
    }
    if (unshare(CLONE_NEWNS) != 0) {
      NamespaceProblem() = absl::StrCat("unshare(CLONE_NEWNS) failed: errno ", errno);
      return;
    }
    // Without this, mounts could propagate back to the host's namespace.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      NamespaceProblem() = absl::StrCat("making / private failed: errno ", errno);
    }
  }

  void SetUp() override {
    if (!NamespaceProblem().empty()) GTEST_SKIP() << NamespaceProblem();
    mount_point_ = dir_.File("fs");
    fs::create_directory(mount_point_);
    ASSERT_EQ(mount("tmpfs", mount_point_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                    "size=1m,mode=0700"),
              0)
        << "mount tmpfs: errno " << errno;
    mounted_ = true;
  }

  void TearDown() override {
    if (mounted_) umount2(mount_point_.c_str(), MNT_DETACH);
  }

  void Remount(unsigned long extra_flags) {
    ASSERT_EQ(mount("tmpfs", mount_point_.c_str(), "tmpfs",
                    MS_REMOUNT | MS_NOSUID | MS_NODEV | extra_flags, "size=1m,mode=0700"),
              0)
        << "remount: errno " << errno;
  }

  // Writes a filler file until the file system refuses another byte.
  void FillFileSystem() {
    const fs::path filler = mount_point_ / "filler";
    const int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    const std::string chunk(65536, 'f');
    for (size_t size = chunk.size(); size > 0; size /= 2) {
      while (write(fd, chunk.data(), size) == static_cast<ssize_t>(size)) {
      }
    }
    close(fd);
  }

  void FreeFileSystem() { fs::remove(mount_point_ / "filler"); }

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
  fs::path mount_point_;
  bool mounted_ = false;
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
  ASSERT_NO_FATAL_FAILURE(Remount(MS_RDONLY));
  const std::string before = ReadBytes(Options().path);
  EXPECT_THAT(Store::Open(Options()),
              StatusIs(Code::kFailedPrecondition,
                       AllOf(HasSubstr(Options().path), HasSubstr("Read-only file system"))));
  EXPECT_EQ(ReadBytes(Options().path), before);

  ASSERT_NO_FATAL_FAILURE(Remount(0));
  auto store = Store::Open(Options());
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(EventCount((*store)->writer()), 1);
}

}  // namespace
}  // namespace posd::store
