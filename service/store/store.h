// Store: posd's durable storage, one SQLite database in WAL mode.
//
// Store::Open claims the database for this process (see OwnershipLock),
// checks that the file is posd's and intact before touching it, then enables
// WAL and brings the schema to the latest version. The Store then offers the
// single write connection, writer(), for whoever serialises writes (the
// engine), and read-only WAL connections through OpenReader().
//
// Lifetime and ownership: the Store owns the writer connection and the
// ownership lock; both are released on destruction. Readers returned by
// OpenReader are owned by the caller and should be closed before the Store,
// since once the Store is gone another posd may claim the file.
//
// Thread safety: writer() returns a connection for one thread at a time.
// OpenReader() and the accessors may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "service/common/clock.h"
#include "service/store/database.h"
#include "service/store/migrations.h"
#include "service/store/ownership_lock.h"

namespace posd::store {

struct StoreOptions {
  // The database file, e.g. /var/lib/posd/posd.db. Its folder must be
  // writable: SQLite keeps -wal and -shm files there, and posd its .lock.
  std::string path;
  // Create a fresh database when the file does not exist; otherwise NOT_FOUND.
  bool create_if_missing = true;
  // How long a statement waits for a lock held by another connection.
  std::chrono::milliseconds busy_timeout{5000};
  // Time source for created_at; nullptr means the real clock. Must outlive Open.
  const Clock* clock = nullptr;
  // The schema steps to apply. Tests pass a prefix to build older versions;
  // production uses the full list.
  std::span<const Migration> migrations = AllMigrations();
};

class Store {
 public:
  // PRAGMA application_id of every posd database: "posd" in ASCII.
  static constexpr int32_t kApplicationId = 0x706F7364;

  // Opens (or creates) the database. Errors, none of which modify the file:
  //   FAILED_PRECONDITION  already in use by another posd; another
  //                        application's SQLite database; schema newer than
  //                        this binary; read-only file system.
  //   PERMISSION_DENIED    the file or its folder is not writable by us.
  //   DATA_LOSS            not an SQLite file, or quick_check found damage.
  //   NOT_FOUND            missing and create_if_missing is false.
  //   RESOURCE_EXHAUSTED   the disk is full.
  // A failed migration returns its error and leaves the old version. Before
  // an upgrade, Open keeps a copy of the old database (migration_backup_path).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);

  // The schema version this binary writes (the length of AllMigrations()).
  static int LatestSchemaVersion();

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The only connection that writes. Use Transaction for every change.
  Database& writer() { return *writer_; }

  // A new read-only connection (SQLITE_OPEN_READONLY). Each reader sees a
  // consistent snapshot per transaction while the writer goes on.
  absl::StatusOr<std::unique_ptr<Database>> OpenReader() const;

  // The schema version after Open's migrations.
  int schema_version() const { return schema_version_; }
  // A random id given to the database when it was created; it survives
  // restarts and upgrades, and distinguishes this shop's data from a copy.
  const std::string& instance_id() const { return instance_id_; }
  const std::string& path() const { return writer_->path(); }
  // Where Open copied the database before upgrading its schema
  // ("<path>.schema-v<old version>.bak"); empty when no upgrade ran.
  const std::string& migration_backup_path() const { return migration_backup_path_; }

 private:
  Store(std::unique_ptr<OwnershipLock> lock, std::unique_ptr<Database> writer,
        std::chrono::milliseconds busy_timeout, int schema_version, std::string instance_id)
      : lock_(std::move(lock)),
        writer_(std::move(writer)),
        busy_timeout_(busy_timeout),
        schema_version_(schema_version),
        instance_id_(std::move(instance_id)) {}

  // Declared first so it is released last, after the writer has closed.
  std::unique_ptr<OwnershipLock> lock_;
  std::unique_ptr<Database> writer_;
  std::chrono::milliseconds busy_timeout_;
  int schema_version_;
  std::string instance_id_;
  std::string migration_backup_path_;
};

}  // namespace posd::store
