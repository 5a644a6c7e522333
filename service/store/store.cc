#include "service/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <random>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/store/statement.h"
#include "service/store/transaction.h"

namespace posd::store {
namespace {

constexpr std::string_view kSqliteMagic("SQLite format 3\0", 16);
constexpr size_t kHeaderSize = 100;
constexpr size_t kApplicationIdOffset = 68;

std::string ErrnoText(int error) { return std::error_code(error, std::generic_category()).message(); }

struct FileFacts {
  bool exists = false;
  off_t size = 0;
};

absl::StatusOr<FileFacts> StatFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT) return FileFacts{};
    return absl::Status(error == EACCES ? absl::StatusCode::kPermissionDenied
                                        : absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("cannot inspect database ", path, ": ", ErrnoText(error)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " is not a regular file"));
  }
  return FileFacts{true, st.st_size};
}

// Reads the 100-byte header with plain I/O, so a file that is not ours is
// judged without SQLite ever opening it (SQLite could create -wal/-shm files
// or roll back a journal).
absl::Status CheckHeader(const std::string& path, off_t size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return absl::Status(error == EACCES ? absl::StatusCode::kPermissionDenied
                                        : absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("cannot read database ", path, ": ", ErrnoText(error)));
  }
  std::array<unsigned char, kHeaderSize> header{};
  const ssize_t n = pread(fd, header.data(), header.size(), 0);
  close(fd);
  if (size < static_cast<off_t>(kHeaderSize) || n != static_cast<ssize_t>(kHeaderSize) ||
      std::memcmp(header.data(), kSqliteMagic.data(), kSqliteMagic.size()) != 0) {
    return absl::DataLossError(absl::StrCat(
        "database ", path,
        " is not an SQLite database (the file is corrupt or is not posd's); posd left it "
        "untouched: restore a backup or move it away"));
  }
  const uint32_t application_id = (uint32_t{header[kApplicationIdOffset]} << 24) |
                                  (uint32_t{header[kApplicationIdOffset + 1]} << 16) |
                                  (uint32_t{header[kApplicationIdOffset + 2]} << 8) |
                                  uint32_t{header[kApplicationIdOffset + 3]};
  if (application_id != static_cast<uint32_t>(Store::kApplicationId)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "database %s is an SQLite database of another application (application_id 0x%08x, "
        "posd's is 0x%08x); posd left it untouched: point posd at its own database",
        path, application_id, static_cast<uint32_t>(Store::kApplicationId)));
  }
  return absl::OkStatus();
}

// SQLite silently opens an unwritable file read-only; find out why, for a
// message the operator can act on.
absl::Status ReadOnlyError(const std::string& path) {
  int error = 0;
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
  } else {
    close(fd);
  }
  const absl::StatusCode code = (error == EACCES || error == EPERM)
                                    ? absl::StatusCode::kPermissionDenied
                                    : absl::StatusCode::kFailedPrecondition;
  return absl::Status(code, absl::StrCat("database ", path, " is read-only (",
                                         error != 0 ? ErrnoText(error) : "opened read-only",
                                         "); posd must be able to write it: fix the file's "
                                         "owner and permissions or the mount"));
}

absl::Status QuickCheck(Database& db) {
  POSD_ASSIGN_OR_RETURN(Statement check, db.Prepare("PRAGMA quick_check(5)"));
  std::string problems;
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool has_row, check.Step());
    if (!has_row) break;
    const std::string_view line = check.ColumnText(0);
    if (line == "ok") return absl::OkStatus();
    absl::StrAppend(&problems, problems.empty() ? "" : "; ", ToAbsl(line));
  }
  return absl::DataLossError(absl::StrCat("database ", db.path(),
                                          " failed its integrity check (", problems,
                                          "); posd left it untouched: restore a backup"));
}

// Prefixes an error met while validating an existing file, so that SQLite's
// "file is not a database" reads as posd refusing that file.
absl::Status Refusal(absl::Status status, const std::string& path) {
  if (status.ok() || status.code() != absl::StatusCode::kDataLoss) return status;
  return absl::DataLossError(absl::StrCat("database ", path,
                                          " is damaged; posd left it untouched: ",
                                          status.message()));
}

std::string NewInstanceId() {
  std::random_device random;
  std::array<uint8_t, 16> bytes;
  for (size_t i = 0; i < bytes.size(); i += 4) {
    const uint32_t word = random();
    std::memcpy(bytes.data() + i, &word, 4);
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // UUID version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string id;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    absl::StrAppendFormat(&id, "%02x", bytes[i]);
  }
  return id;
}

absl::StatusOr<std::string> EnsureInstance(Database& db, const Clock& clock) {
  POSD_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(db));
  POSD_ASSIGN_OR_RETURN(Statement select,
                        db.Prepare("SELECT instance_id FROM posd_instance WHERE singleton = 1"));
  POSD_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (found) return std::string(select.ColumnText(0));
  const std::string id = NewInstanceId();
  POSD_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO posd_instance (singleton, instance_id, created_at) "
                 "VALUES (1, :id, :created_at)"));
  POSD_RETURN_IF_ERROR(insert.BindText(":id", id));
  POSD_RETURN_IF_ERROR(insert.BindInt64(
      ":created_at", std::chrono::duration_cast<std::chrono::milliseconds>(
                         clock.WallNow().time_since_epoch())
                         .count()));
  POSD_RETURN_IF_ERROR(insert.Run());
  POSD_RETURN_IF_ERROR(transaction.Commit());
  return id;
}

// Writes a consistent copy of `db` (schema version `version`) next to it,
// "<path>.schema-v<version>.bak", replacing an older copy of that name; returns
// its path. Nothing of the database itself changes.
absl::StatusOr<std::string> BackUpBeforeMigration(Database& db, const std::string& path,
                                                  int64_t version) {
  const std::string backup = absl::StrCat(path, ".schema-v", version, ".bak");
  // VACUUM INTO refuses to overwrite; a copy of the same version left by an
  // upgrade that failed later is replaced by this fresh one.
  if (std::remove(backup.c_str()) != 0 && errno != ENOENT) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot replace the old backup ", backup, ": ", std::strerror(errno)));
  }
  POSD_ASSIGN_OR_RETURN(Statement vacuum, db.Prepare("VACUUM INTO ?"));
  POSD_RETURN_IF_ERROR(vacuum.BindText(1, backup));
  if (absl::Status done = vacuum.Step().status(); !done.ok()) {
    std::remove(backup.c_str());
    return absl::Status(done.code(), absl::StrCat("cannot back up database ", path,
                                                  " before upgrading its schema: ",
                                                  done.message()));
  }
  return backup;
}

}  // namespace

int Store::LatestSchemaVersion() { return static_cast<int>(AllMigrations().size()); }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("database path is empty");
  if (options.migrations.empty()) {
    return absl::InvalidArgumentError("no migrations given: a store needs a schema");
  }
  const std::string& path = options.path;
  POSD_ASSIGN_OR_RETURN(const FileFacts before, StatFile(path));
  if (!before.exists && !options.create_if_missing) {
    return absl::NotFoundError(
        absl::StrCat("database ", path, " does not exist and create_if_missing is off"));
  }

  // Claim the file before looking at it: another posd may be migrating it.
  POSD_ASSIGN_OR_RETURN(std::unique_ptr<OwnershipLock> lock, OwnershipLock::Acquire(path));

  const bool fresh = !before.exists || before.size == 0;
  if (!fresh) POSD_RETURN_IF_ERROR(CheckHeader(path, before.size));

  POSD_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                        Database::Open(path, DatabaseOptions{
                                                 .read_only = false,
                                                 .create_if_missing = options.create_if_missing,
                                                 .busy_timeout = options.busy_timeout,
                                             }));
  if (db->read_only()) return ReadOnlyError(path);

  // Everything up to journal_mode only reads: a file we refuse stays
  // byte-for-byte as it was.
  int64_t stored_version = 0;
  if (!fresh) {
    absl::StatusOr<int64_t> application_id = db->QueryInt64("PRAGMA application_id");
    if (!application_id.ok()) return Refusal(application_id.status(), path);
    if (*application_id != kApplicationId) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "database %s is an SQLite database of another application (application_id %d); posd "
          "left it untouched",
          path, *application_id));
    }
    absl::StatusOr<int64_t> version = db->QueryInt64("PRAGMA user_version");
    if (!version.ok()) return Refusal(version.status(), path);
    stored_version = *version;
    const int64_t known = static_cast<int64_t>(options.migrations.size());
    if (*version > known) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database ", path, " has schema version ", *version, ", newer than this posd knows (",
          known, "); it was written by a newer posd: upgrade posd or restore a backup"));
    }
  }
  POSD_RETURN_IF_ERROR(Refusal(QuickCheck(*db), path));

  if (fresh) {
    // Stamped before WAL is enabled, so it lands in the main file at once and
    // a crash later can never leave a posd database that looks foreign.
    POSD_RETURN_IF_ERROR(db->Execute(absl::StrCat("PRAGMA application_id = ", kApplicationId)));
  }
  POSD_ASSIGN_OR_RETURN(const std::string journal_mode,
                        db->QueryText("PRAGMA journal_mode = WAL"));
  if (journal_mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", path, " cannot use write-ahead logging (journal mode stays ",
        journal_mode, "); is its folder on a file system without shared memory support?"));
  }
  // FULL: a commit that returned is on disk even if power fails right after
  // (NORMAL in WAL mode may lose the last commits).
  POSD_RETURN_IF_ERROR(db->Execute("PRAGMA synchronous = FULL"));

  // A schema upgrade is the one change an older posd cannot read back: keep
  // a consistent copy of the database as it was, so that rolling back the
  // binary is restoring that copy (docs/operations.md).
  std::string backup_path;
  if (!fresh && stored_version < static_cast<int64_t>(options.migrations.size())) {
    POSD_ASSIGN_OR_RETURN(backup_path, BackUpBeforeMigration(*db, path, stored_version));
  }
  POSD_RETURN_IF_ERROR(Migrate(*db, options.migrations));
  POSD_ASSIGN_OR_RETURN(const int64_t version, db->QueryInt64("PRAGMA user_version"));
  POSD_ASSIGN_OR_RETURN(
      std::string instance_id,
      EnsureInstance(*db, options.clock != nullptr ? *options.clock : RealClock::Get()));

  auto store = std::unique_ptr<Store>(new Store(std::move(lock), std::move(db),
                                                options.busy_timeout, static_cast<int>(version),
                                                std::move(instance_id)));
  store->migration_backup_path_ = std::move(backup_path);
  return store;
}

Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Database>> Store::OpenReader() const {
  return Database::Open(writer_->path(), DatabaseOptions{
                                             .read_only = true,
                                             .create_if_missing = false,
                                             .busy_timeout = busy_timeout_,
                                         });
}

}  // namespace posd::store
