#include "service/store/sqlite_status.h"

#include <errno.h>
#include <sqlite3.h>

#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "service/common/strings.h"

namespace posd::store {
namespace {

// A human headline for each code, so a log line says what went wrong before
// it says where.
std::string_view Headline(absl::StatusCode code, int primary, int system_errno) {
  switch (primary) {
    case SQLITE_FULL:
      return "database disk is full";
    case SQLITE_READONLY:
      return "database is read-only";
    case SQLITE_BUSY:
      return "database is busy";
    case SQLITE_LOCKED:
      return "database table is locked";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "database file is corrupt or not a database";
    case SQLITE_CONSTRAINT:
      return code == absl::StatusCode::kAlreadyExists ? "record already exists"
                                                      : "constraint violated";
    case SQLITE_CANTOPEN:
      return "cannot open database";
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return "permission denied";
    case SQLITE_NOMEM:
      return "out of memory";
    case SQLITE_IOERR:
      if (system_errno == ENOSPC || system_errno == EDQUOT) return "database disk is full";
      if (system_errno == EROFS) return "database file system is read-only";
      if (system_errno == EACCES || system_errno == EPERM) return "permission denied";
      return "database I/O error";
    case SQLITE_RANGE:
      return "parameter index out of range";
    default:
      return "database error";
  }
}

}  // namespace

std::string_view SqliteCodeName(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK: return "SQLITE_OK";
    case SQLITE_ERROR: return "SQLITE_ERROR";
    case SQLITE_INTERNAL: return "SQLITE_INTERNAL";
    case SQLITE_PERM: return "SQLITE_PERM";
    case SQLITE_ABORT: return "SQLITE_ABORT";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_NOTFOUND: return "SQLITE_NOTFOUND";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_PROTOCOL: return "SQLITE_PROTOCOL";
    case SQLITE_EMPTY: return "SQLITE_EMPTY";
    case SQLITE_SCHEMA: return "SQLITE_SCHEMA";
    case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_MISUSE: return "SQLITE_MISUSE";
    case SQLITE_NOLFS: return "SQLITE_NOLFS";
    case SQLITE_AUTH: return "SQLITE_AUTH";
    case SQLITE_FORMAT: return "SQLITE_FORMAT";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    case SQLITE_NOTADB: return "SQLITE_NOTADB";
    case SQLITE_NOTICE: return "SQLITE_NOTICE";
    case SQLITE_WARNING: return "SQLITE_WARNING";
    case SQLITE_ROW: return "SQLITE_ROW";
    case SQLITE_DONE: return "SQLITE_DONE";
    default: return "SQLITE_UNKNOWN";
  }
}

absl::StatusCode SqliteCodeToStatusCode(int extended_rc, int system_errno) {
  using absl::StatusCode;
  switch (extended_rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return StatusCode::kOk;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return StatusCode::kResourceExhausted;
    case SQLITE_READONLY:
      // The connection or file cannot be written in its current state; the
      // operator has to fix the file or the mount, retrying will not help.
      return StatusCode::kFailedPrecondition;
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return StatusCode::kPermissionDenied;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
    case SQLITE_SCHEMA:
      // Another connection holds a lock or changed the schema: retryable.
      return StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return StatusCode::kDataLoss;
    case SQLITE_CONSTRAINT:
      switch (extended_rc) {
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_ROWID:
          return StatusCode::kAlreadyExists;
        case SQLITE_CONSTRAINT_NOTNULL:
        case SQLITE_CONSTRAINT_DATATYPE:
          // The caller passed a value of the wrong shape: a bug at the call site.
          return StatusCode::kInvalidArgument;
        default:
          // CHECK, FOREIGNKEY, TRIGGER: the state of the data forbids the change.
          return StatusCode::kFailedPrecondition;
      }
    case SQLITE_IOERR:
      if (system_errno == ENOSPC || system_errno == EDQUOT) return StatusCode::kResourceExhausted;
      if (system_errno == EROFS) return StatusCode::kFailedPrecondition;
      if (system_errno == EACCES || system_errno == EPERM) return StatusCode::kPermissionDenied;
      return StatusCode::kUnavailable;
    case SQLITE_CANTOPEN:
      if (system_errno == EACCES || system_errno == EPERM) return StatusCode::kPermissionDenied;
      if (system_errno == ENOENT || system_errno == ENOTDIR) return StatusCode::kNotFound;
      return StatusCode::kFailedPrecondition;
    case SQLITE_INTERRUPT:
      return StatusCode::kCancelled;
    case SQLITE_ABORT:
      return StatusCode::kAborted;
    case SQLITE_RANGE:
      return StatusCode::kOutOfRange;
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
      return StatusCode::kInvalidArgument;
    case SQLITE_ERROR:
      // SQL errors (syntax, unknown table) in our own statements are bugs.
      return StatusCode::kInternal;
    default:
      return StatusCode::kInternal;
  }
}

absl::Status SqliteStatus(int extended_rc, int system_errno, std::string_view path,
                          std::string_view what, std::string_view sqlite_message) {
  const absl::StatusCode code = SqliteCodeToStatusCode(extended_rc, system_errno);
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  std::string detail = std::string(SqliteCodeName(extended_rc));
  if (extended_rc != (extended_rc & 0xff)) absl::StrAppend(&detail, ", extended code ", extended_rc);
  if (system_errno != 0) {
    absl::StrAppend(&detail, ", errno ", system_errno, ": ", std::error_code(system_errno, std::generic_category()).message());
  }
  return absl::Status(code, absl::StrCat(ToAbsl(Headline(code, extended_rc & 0xff, system_errno)), ": ",
                                         ToAbsl(path), ": ", ToAbsl(what), ": ", ToAbsl(sqlite_message), " (", detail,
                                         ")"));
}

}  // namespace posd::store
