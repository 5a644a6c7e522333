#include "service/store/ownership_lock.h"

#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/store/test_helpers.h"

namespace posd::store {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

TEST(OwnershipLockTest, WritesOurPidIntoTheLockFile) {
  posd::testing::TempDir dir;
  const std::string db = dir.File("posd.db").string();
  auto lock = OwnershipLock::Acquire(db);
  ASSERT_THAT(lock, IsOk());
  EXPECT_EQ((*lock)->lock_path(), db + ".lock");
  EXPECT_EQ(testing::ReadBytes((*lock)->lock_path()), absl::StrCat(getpid(), "\n"));
  // The database file itself is left alone.
  EXPECT_FALSE(std::filesystem::exists(db));
}

TEST(OwnershipLockTest, SecondAcquireFailsFastNamingTheOwner) {
  posd::testing::TempDir dir;
  const std::string db = dir.File("posd.db").string();
  auto first = OwnershipLock::Acquire(db);
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(OwnershipLock::Acquire(db),
              StatusIs(Code::kFailedPrecondition,
                       absl::StrCat("database ", db, " is already in use by another posd (pid ",
                                    getpid(), ")")));
  first->reset();
  EXPECT_THAT(OwnershipLock::Acquire(db), IsOk());
}

TEST(OwnershipLockTest, UnwritableFolderIsPermissionDenied) {
  posd::testing::TempDir dir;
  std::filesystem::create_directory(dir.File("ro"));
  std::filesystem::permissions(dir.File("ro"), std::filesystem::perms::owner_read |
                                                   std::filesystem::perms::owner_exec);
  testing::ScopedWithoutDacOverride no_root_bypass;
  EXPECT_THAT(OwnershipLock::Acquire((dir.File("ro") / "posd.db").string()),
              StatusIs(Code::kPermissionDenied, HasSubstr("cannot open lock file")));
}

TEST(OwnershipLockTest, AnotherProcessIsRefusedWhileHeld) {
  posd::testing::TempDir dir;
  const std::string db = dir.File("posd.db").string();
  auto lock = OwnershipLock::Acquire(db);
  ASSERT_THAT(lock, IsOk());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto second = OwnershipLock::Acquire(db);
    const bool refused = second.status().code() == Code::kFailedPrecondition &&
                         second.status().message().find(absl::StrCat("(pid ", getppid(), ")")) !=
                             std::string_view::npos;
    _exit(refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace posd::store
