// Translation of SQLite result codes into absl::Status values.
//
// The store is the only part of posd that sees SQLite's integer codes; every
// failure leaves it as an absl::Status with the most specific canonical code,
// so callers (the engine, then the gRPC adapters) can react without knowing
// SQLite. Stateless free functions; thread-safe.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace posd::store {

// The canonical code for an SQLite (extended) result code. `system_errno` is
// what sqlite3_system_errno() reported for the failure (0 when unknown); it
// refines I/O and open errors (ENOSPC, EROFS, EACCES) that SQLite folds into
// SQLITE_IOERR or SQLITE_CANTOPEN.
absl::StatusCode SqliteCodeToStatusCode(int extended_rc, int system_errno);

// A status for a failed SQLite call, e.g.
//   "database disk is full: /x/posd.db: commit: database or disk is full (SQLITE_FULL)".
// `what` names the operation, `path` the database file, `sqlite_message` is
// sqlite3_errmsg() captured right after the failure.
absl::Status SqliteStatus(int extended_rc, int system_errno, std::string_view path,
                          std::string_view what, std::string_view sqlite_message);

// The symbolic name of an SQLite primary result code ("SQLITE_BUSY").
std::string_view SqliteCodeName(int rc);

}  // namespace posd::store
