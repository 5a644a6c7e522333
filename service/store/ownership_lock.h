// OwnershipLock: this process's exclusive claim on one database.
//
// Only one posd may own a database at a time: two writers would each believe
// their view of payments is the truth. The claim is an flock(LOCK_EX |
// LOCK_NB) on "<db>.lock" next to the database, holding the owner's pid for
// the error message of whoever comes second. The database file itself is not
// flocked: SQLite uses fcntl locks on it, and those vanish when any
// descriptor of the file is closed.
//
// flock belongs to the open file description, so a second Acquire in the
// same process fails just like one in another process. The kernel drops the
// lock when the process dies, so a crash never leaves a stale claim. The lock
// file is left in place on release: unlinking it would let a newcomer lock a
// fresh inode while a third process still holds the old one.
//
// Lifetime and ownership: the lock is held from Acquire until destruction.
// Not copyable or movable. Thread safety: immutable after Acquire.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace posd::store {

class OwnershipLock {
 public:
  // Claims `database_path` without waiting. FAILED_PRECONDITION "database X
  // is already in use by another posd (pid N)" when someone holds it;
  // PERMISSION_DENIED or FAILED_PRECONDITION when the lock file cannot be
  // created (unwritable folder, read-only file system).
  static absl::StatusOr<std::unique_ptr<OwnershipLock>> Acquire(std::string_view database_path);

  ~OwnershipLock();
  OwnershipLock(const OwnershipLock&) = delete;
  OwnershipLock& operator=(const OwnershipLock&) = delete;

  const std::string& lock_path() const { return lock_path_; }

 private:
  OwnershipLock(int fd, std::string lock_path) : fd_(fd), lock_path_(std::move(lock_path)) {}

  int fd_;
  std::string lock_path_;
};

}  // namespace posd::store
