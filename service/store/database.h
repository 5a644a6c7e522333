// Database: one SQLite connection.
//
// Lifetime and ownership: a Database owns its sqlite3 handle and closes it in
// its destructor. Statements and Transactions created from it borrow it and
// must be destroyed before it; it is neither copyable nor movable so that
// their back-pointers stay valid.
//
// Thread safety: a Database is a single connection opened without SQLite's
// own mutexes; use it from one thread at a time (the engine's writer thread,
// or one reader per thread). Distinct Databases on the same file are
// independent and may be used concurrently (WAL gives readers a snapshot).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/store/statement.h"

struct sqlite3;
struct sqlite3_stmt;

namespace posd::store {

struct DatabaseOptions {
  // Open with SQLITE_OPEN_READONLY: every write fails with FAILED_PRECONDITION.
  bool read_only = false;
  // Create the file when it does not exist (ignored when read_only).
  bool create_if_missing = false;
  // How long a statement waits for another connection's lock before it fails
  // with UNAVAILABLE.
  std::chrono::milliseconds busy_timeout{5000};
};

class Database {
 public:
  // Opens `path` and applies the per-connection settings every posd
  // connection needs (busy timeout, foreign keys). A read-write open of a
  // file that SQLite could only open read-only succeeds; check read_only().
  // Errors: NOT_FOUND (missing and not created), PERMISSION_DENIED,
  // FAILED_PRECONDITION, DATA_LOSS.
  static absl::StatusOr<std::unique_ptr<Database>> Open(std::string_view path,
                                                        const DatabaseOptions& options);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more SQL statements that return no rows of interest
  // (migrations, pragmas, DDL). Stops at the first failure.
  absl::Status Execute(std::string_view sql);

  // Compiles exactly one statement; trailing SQL after it is INVALID_ARGUMENT
  // so that a second statement is never silently ignored.
  //
  // Compiled statements are kept per connection, keyed by their exact text:
  // a Prepare of a text seen before takes an idle compiled copy (reset, no
  // bindings) instead of compiling again, which costs more than running a
  // simple statement. Statements of the same text in use at the same time
  // each get their own copy. Up to kMaxCachedTexts distinct texts are kept;
  // further texts (SQL with values spliced in) are compiled every time.
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  static constexpr size_t kMaxCachedTexts = 256;
  // Distinct SQL texts with compiled statements kept (for tests).
  size_t cached_texts() const { return idle_.size(); }

  // Runs a statement that yields one row and returns its first column as an
  // integer (PRAGMA user_version, SELECT count(*) ...). NOT_FOUND if no row.
  absl::StatusOr<int64_t> QueryInt64(std::string_view sql);
  // Same for a text column.
  absl::StatusOr<std::string> QueryText(std::string_view sql);

  const std::string& path() const { return path_; }
  // True when the connection cannot write: opened read-only, or SQLite fell
  // back to read-only because the file or its folder is not writable.
  bool read_only() const;
  // True while a transaction is open on this connection.
  bool in_transaction() const;
  int64_t last_insert_rowid() const;
  // Rows changed by the most recent INSERT/UPDATE/DELETE.
  int64_t changes() const;

  // The status for the most recent failure `rc` on this connection, with
  // SQLite's message and the file name. `what` names the operation.
  absl::Status Error(int rc, std::string_view what) const;

  // Escape hatch for SQLite features the wrapper does not cover. The handle
  // stays owned by this Database.
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };

  sqlite3* db_;
  std::string path_;
  // Idle compiled statements by SQL text. Nodes never move, so a Statement
  // may point at its text's vector while it lives.
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, TextHash, std::equal_to<>> idle_;
};

}  // namespace posd::store
