#include "service/store/database.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/store/sqlite_status.h"

namespace posd::store {
namespace {

bool OnlyWhitespaceOrComments(sqlite3* db, const char* begin, const char* end) {
  // sqlite3_prepare reports no statement (nullptr) for blank text.
  while (begin < end) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db, begin, static_cast<int>(end - begin), &stmt, &tail) != SQLITE_OK) {
      return false;
    }
    if (stmt != nullptr) {
      sqlite3_finalize(stmt);
      return false;
    }
    if (tail == begin) break;
    begin = tail;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(std::string_view path,
                                                         const DatabaseOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("database path is empty");
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create_if_missing) flags |= SQLITE_OPEN_CREATE;
  }
  std::string owned_path(path);
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(owned_path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status =
        SqliteStatus(rc, raw != nullptr ? sqlite3_system_errno(raw) : 0, owned_path, "open",
                     raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_close_v2(raw);
    return status;
  }
  std::unique_ptr<Database> db(new Database(raw, std::move(owned_path)));
  sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
  // Foreign keys are off by default in SQLite and per connection; posd's
  // schema relies on them everywhere.
  POSD_RETURN_IF_ERROR(db->Execute("PRAGMA foreign_keys = ON"));
  return db;
}

Database::~Database() {
  for (auto& [text, idle] : idle_) {
    for (sqlite3_stmt* stmt : idle) sqlite3_finalize(stmt);
  }
  // close_v2 defers the close until any leaked statements are finalized
  // instead of failing with SQLITE_BUSY.
  sqlite3_close_v2(db_);
}

absl::Status Database::Execute(std::string_view sql) {
  const char* begin = sql.data();
  const char* const end = sql.data() + sql.size();
  while (begin < end) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_, begin, static_cast<int>(end - begin), &stmt, &tail);
    if (rc != SQLITE_OK) {
      return Error(rc, absl::StrCat("preparing \"", ToAbsl(std::string_view(begin, end - begin).substr(0, 80)),
                                    "\""));
    }
    if (stmt == nullptr) break;  // only whitespace or comments were left
    begin = tail;
    Statement statement(this, stmt);
    POSD_RETURN_IF_ERROR(statement.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Database::Prepare(std::string_view sql) {
  auto cached = idle_.find(sql);
  if (cached != idle_.end() && !cached->second.empty()) {
    sqlite3_stmt* stmt = cached->second.back();
    cached->second.pop_back();
    return Statement(this, stmt, &cached->second);
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) {
    return Error(rc, absl::StrCat("preparing \"", ToAbsl(sql.substr(0, 80)), "\""));
  }
  if (stmt == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("no SQL statement in \"", ToAbsl(sql), "\""));
  }
  Statement statement(this, stmt);
  if (!OnlyWhitespaceOrComments(db_, tail, sql.data() + sql.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than one SQL statement in \"", ToAbsl(sql.substr(0, 80)),
                     "\"; use Database::Execute for scripts"));
  }
  if (cached == idle_.end() && idle_.size() < kMaxCachedTexts) {
    cached = idle_.try_emplace(std::string(sql)).first;
  }
  if (cached != idle_.end()) statement.idle_ = &cached->second;
  return statement;
}

absl::StatusOr<int64_t> Database::QueryInt64(std::string_view sql) {
  POSD_ASSIGN_OR_RETURN(Statement statement, Prepare(sql));
  POSD_ASSIGN_OR_RETURN(const bool has_row, statement.Step());
  if (!has_row) return absl::NotFoundError(absl::StrCat("no row from \"", ToAbsl(sql), "\""));
  return statement.ColumnInt64(0);
}

absl::StatusOr<std::string> Database::QueryText(std::string_view sql) {
  POSD_ASSIGN_OR_RETURN(Statement statement, Prepare(sql));
  POSD_ASSIGN_OR_RETURN(const bool has_row, statement.Step());
  if (!has_row) return absl::NotFoundError(absl::StrCat("no row from \"", ToAbsl(sql), "\""));
  return std::string(statement.ColumnText(0));
}

bool Database::read_only() const { return sqlite3_db_readonly(db_, "main") == 1; }

bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int64_t Database::changes() const { return sqlite3_changes64(db_); }

absl::Status Database::Error(int rc, std::string_view what) const {
  return SqliteStatus(rc, sqlite3_system_errno(db_), path_, what, sqlite3_errmsg(db_));
}

}  // namespace posd::store
