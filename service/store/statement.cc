#include "service/store/statement.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/strings.h"
#include "service/store/database.h"

namespace posd::store {
namespace {

// SQLite binds NULL for a null data pointer; an empty string_view may have
// one, but it means "empty", not "absent".
const char* NonNull(std::string_view value) { return value.data() != nullptr ? value.data() : ""; }

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      idle_(std::exchange(other.idle_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    idle_ = std::exchange(other.idle_, nullptr);
  }
  return *this;
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  sqlite3_stmt* stmt = std::exchange(stmt_, nullptr);
  std::vector<sqlite3_stmt*>* idle = std::exchange(idle_, nullptr);
  if (stmt == nullptr) return;
  if (idle == nullptr) {
    sqlite3_finalize(stmt);
    return;
  }
  // Reset ends any read it had open; the next user binds afresh.
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  idle->push_back(stmt);
}

absl::Status Statement::CheckBind(int rc, int index) {
  if (rc == SQLITE_OK) return absl::OkStatus();
  return db_->Error(rc, absl::StrCat("binding parameter ", index, " of \"", ToAbsl(sql().substr(0, 80)),
                                     "\" (", parameter_count(), " parameters)"));
}

absl::StatusOr<int> Statement::IndexOf(std::string_view name) const {
  // sqlite3_bind_parameter_index needs a NUL-terminated name.
  const int index = sqlite3_bind_parameter_index(stmt_, std::string(name).c_str());
  if (index == 0) {
    return absl::NotFoundError(
        absl::StrCat("no parameter named \"", ToAbsl(name), "\" in \"", ToAbsl(sql().substr(0, 80)), "\""));
  }
  return index;
}

absl::Status Statement::BindInt64(int index, int64_t value) {
  return CheckBind(sqlite3_bind_int64(stmt_, index, value), index);
}

absl::Status Statement::BindDouble(int index, double value) {
  return CheckBind(sqlite3_bind_double(stmt_, index, value), index);
}

absl::Status Statement::BindText(int index, std::string_view value) {
  return CheckBind(sqlite3_bind_text64(stmt_, index, NonNull(value), value.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8),
                   index);
}

absl::Status Statement::BindBlob(int index, std::string_view bytes) {
  return CheckBind(
      sqlite3_bind_blob64(stmt_, index, NonNull(bytes), bytes.size(), SQLITE_TRANSIENT), index);
}

absl::Status Statement::BindNull(int index) {
  return CheckBind(sqlite3_bind_null(stmt_, index), index);
}

absl::Status Statement::BindInt64(std::string_view name, int64_t value) {
  absl::StatusOr<int> index = IndexOf(name);
  if (!index.ok()) return index.status();
  return BindInt64(*index, value);
}

absl::Status Statement::BindDouble(std::string_view name, double value) {
  absl::StatusOr<int> index = IndexOf(name);
  if (!index.ok()) return index.status();
  return BindDouble(*index, value);
}

absl::Status Statement::BindText(std::string_view name, std::string_view value) {
  absl::StatusOr<int> index = IndexOf(name);
  if (!index.ok()) return index.status();
  return BindText(*index, value);
}

absl::Status Statement::BindBlob(std::string_view name, std::string_view bytes) {
  absl::StatusOr<int> index = IndexOf(name);
  if (!index.ok()) return index.status();
  return BindBlob(*index, bytes);
}

absl::Status Statement::BindNull(std::string_view name) {
  absl::StatusOr<int> index = IndexOf(name);
  if (!index.ok()) return index.status();
  return BindNull(*index);
}

absl::StatusOr<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, absl::StrCat("executing \"", ToAbsl(sql().substr(0, 80)), "\""));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> has_row = Step();
    if (!has_row.ok()) return has_row.status();
    if (!*has_row) return absl::OkStatus();
  }
}

void Statement::Reset() {
  // sqlite3_reset repeats the last step's error code, which Step() has
  // already reported.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int Statement::parameter_count() const { return sqlite3_bind_parameter_count(stmt_); }

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

std::string_view Statement::column_name(int column) const {
  const char* name = sqlite3_column_name(stmt_, column);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string_view Statement::ColumnText(int column) const {
  // Text first, then bytes: the documented order that avoids a conversion
  // invalidating the pointer.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(text),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string_view Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return {};
  return std::string_view(static_cast<const char*>(blob),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string_view Statement::sql() const {
  const char* text = stmt_ != nullptr ? sqlite3_sql(stmt_) : nullptr;
  return text != nullptr ? std::string_view(text) : std::string_view();
}

}  // namespace posd::store
