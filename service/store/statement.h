// Statement: one prepared SQL statement.
//
// Lifetime and ownership: owns its sqlite3_stmt while it lives; on
// destruction it finalizes it, or, when the Database caches compiled
// statements of that SQL text (Database::Prepare), resets it, clears its
// bindings and hands it back for the next Prepare of the same text. Borrows
// the Database that prepared it, which must outlive it. Movable, not copyable.
//
// Thread safety: as its Database, one thread at a time.
//
// Parameters are numbered from 1 (SQLite's convention) or named with their
// prefix (":id", "@id", "$id"). Columns are numbered from 0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3_stmt;

namespace posd::store {

class Database;

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding errors: OUT_OF_RANGE for an index outside 1..parameter_count(),
  // NOT_FOUND for an unknown parameter name. Text and blob values are copied
  // by SQLite, so the arguments need not outlive the call.
  absl::Status BindInt64(int index, int64_t value);
  absl::Status BindDouble(int index, double value);
  absl::Status BindText(int index, std::string_view value);
  absl::Status BindBlob(int index, std::string_view bytes);
  absl::Status BindNull(int index);
  absl::Status BindInt64(std::string_view name, int64_t value);
  absl::Status BindDouble(std::string_view name, double value);
  absl::Status BindText(std::string_view name, std::string_view value);
  absl::Status BindBlob(std::string_view name, std::string_view bytes);
  absl::Status BindNull(std::string_view name);

  // Advances the statement: true when a row is available through the Column*
  // getters, false when it has finished. Errors carry the mapped SQLite code
  // (ALREADY_EXISTS for a unique violation, RESOURCE_EXHAUSTED for a full
  // disk, ...). After an error, Reset() before stepping again.
  absl::StatusOr<bool> Step();
  // Steps until the statement finishes, discarding rows.
  absl::Status Run();
  // Rewinds the statement and clears its bindings so it can be reused.
  void Reset();

  int parameter_count() const;
  int column_count() const;
  std::string_view column_name(int column) const;

  // Getters for the current row. SQLite converts between types as documented
  // for sqlite3_column_*; an out-of-range column reads as NULL (0 or empty).
  // The views stay valid until the next Step(), Reset() or destruction.
  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  std::string_view ColumnText(int column) const;
  std::string_view ColumnBlob(int column) const;

  std::string_view sql() const;

 private:
  friend class Database;
  // `idle`: where the statement goes back when this Statement ends (a
  // Database's cache slot), or nullptr to finalize it.
  Statement(Database* db, sqlite3_stmt* stmt, std::vector<sqlite3_stmt*>* idle = nullptr)
      : db_(db), stmt_(stmt), idle_(idle) {}
  void Release();

  absl::StatusOr<int> IndexOf(std::string_view name) const;
  absl::Status CheckBind(int rc, int index);

  Database* db_;
  sqlite3_stmt* stmt_;
  std::vector<sqlite3_stmt*>* idle_;
};

}  // namespace posd::store
