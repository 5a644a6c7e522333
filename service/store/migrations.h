// The schema of posd's database as an ordered list of migrations.
//
// Migration N takes a database from schema version N-1 to N (PRAGMA
// user_version). Adding a version is one new entry at the end of the list in
// migrations.cc; an entry is never edited once released, because databases in
// shops already ran it.
//
// Thread safety: the list is immutable static data.
#pragma once

#include <span>
#include <string_view>

#include "absl/status/status.h"

namespace posd::store {

class Database;

struct Migration {
  int version;            // the schema version this step produces
  std::string_view name;  // for error messages and logs
  std::string_view sql;   // one or more statements; run inside the caller's transaction
};

// All migrations, ordered, versions 1, 2, ... without gaps.
std::span<const Migration> AllMigrations();

// Brings `db` to the last version in `migrations`, running every missing step
// in one BEGIN IMMEDIATE transaction, so a failure leaves the database at the
// version it had. FAILED_PRECONDITION when the database's version is newer
// than the list knows; INTERNAL when the list itself is malformed. Other
// errors are the failing step's, prefixed with its version and name.
absl::Status Migrate(Database& db, std::span<const Migration> migrations);

}  // namespace posd::store
