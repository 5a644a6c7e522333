#include "service/store/migrations.h"

#include "absl/strings/str_cat.h"
#include "service/common/status_macros.h"
#include "service/store/absl_view.h"
#include "service/store/database.h"
#include "service/store/transaction.h"

namespace posd::store {
namespace {

// Conventions: times are INTEGER milliseconds since the Unix epoch (UTC);
// tables are STRICT so a value of the wrong type is an error, not a silent
// conversion; payloads are BLOBs (serialized protobufs).

constexpr std::string_view kV1Foundation = R"sql(
CREATE TABLE posd_instance (
  singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
  instance_id TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

-- AUTOINCREMENT: a sequence number is never reused, even after the newest
-- events are deleted, so a UI resuming from "since" cannot skip an event.
CREATE TABLE event_log (
  sequence    INTEGER PRIMARY KEY AUTOINCREMENT,
  occurred_at INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  subject_id  TEXT NOT NULL,
  payload     BLOB NOT NULL
) STRICT;
CREATE INDEX event_log_by_subject ON event_log (subject_id, sequence);

CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  role    TEXT NOT NULL,
  action  TEXT NOT NULL,
  subject TEXT NOT NULL,
  reason  TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_by_time ON audit_log (at);

CREATE TABLE idempotency_keys (
  request_id   TEXT PRIMARY KEY,
  method       TEXT NOT NULL,
  request_hash BLOB NOT NULL,
  response     BLOB NOT NULL,
  created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
)sql";

constexpr std::string_view kV2DevicesAndHooks = R"sql(
CREATE TABLE devices (
  id                  TEXT PRIMARY KEY,
  name                TEXT NOT NULL,
  transport           TEXT NOT NULL CHECK (transport IN ('serial', 'websocket')),
  serial_port         TEXT,
  serial_baud         INTEGER,
  serial_data_bits    INTEGER CHECK (serial_data_bits IS NULL OR serial_data_bits BETWEEN 5 AND 8),
  serial_parity       TEXT CHECK (serial_parity IS NULL OR serial_parity IN ('none', 'odd', 'even', 'mark', 'space')),
  serial_stop_bits    TEXT CHECK (serial_stop_bits IS NULL OR serial_stop_bits IN ('1', '1.5', '2')),
  serial_flow_control TEXT CHECK (serial_flow_control IS NULL OR serial_flow_control IN ('none', 'rtscts', 'xonxoff', 'dtrdsr')),
  ws_host             TEXT,
  ws_port             INTEGER CHECK (ws_port IS NULL OR ws_port BETWEEN 1 AND 65535),
  ws_path             TEXT,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  CHECK ((transport = 'serial' AND serial_port IS NOT NULL AND serial_baud IS NOT NULL)
      OR (transport = 'websocket' AND ws_host IS NOT NULL AND ws_port IS NOT NULL))
) STRICT;

-- The after-hook outbox: a row is written in the same transaction as the
-- transition it follows, then worked off at least once.
CREATE TABLE hook_runs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  hook_point      TEXT NOT NULL,
  plugin          TEXT NOT NULL,
  subject_id      TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  state           TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT '',
  next_attempt_at INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX hook_runs_due ON hook_runs (state, next_attempt_at);
CREATE INDEX hook_runs_by_subject ON hook_runs (subject_id);
)sql";

constexpr Migration kMigrations[] = {
    {1, "foundation: instance, event log, audit log, idempotency keys", kV1Foundation},
    {2, "device registry and hook outbox", kV2DevicesAndHooks},
};

}  // namespace

std::span<const Migration> AllMigrations() { return kMigrations; }

absl::Status Migrate(Database& db, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError(absl::StrCat("migration list is malformed: entry ", i,
                                              " has version ", migrations[i].version,
                                              ", expected ", i + 1));
    }
  }
  const int latest = static_cast<int>(migrations.size());
  POSD_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(db));
  // Read the version inside the write transaction: nobody can migrate
  // between the check and the steps.
  POSD_ASSIGN_OR_RETURN(const int64_t current, db.QueryInt64("PRAGMA user_version"));
  if (current > latest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", db.path(), " has schema version ", current,
        ", newer than this posd knows (", latest,
        "); it was written by a newer posd: upgrade posd or restore a backup"));
  }
  if (current < 0) {
    return absl::DataLossError(
        absl::StrCat("database ", db.path(), " has invalid schema version ", current));
  }
  if (current == latest) return absl::OkStatus();  // the transaction rolls back: nothing to do
  for (const Migration& migration : migrations.subspan(static_cast<size_t>(current))) {
    absl::Status status = db.Execute(migration.sql);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat("migration to schema version ", migration.version, " (",
                                       AbslView(migration.name), ") failed, database left at version ",
                                       current, ": ", status.message()));
    }
  }
  // user_version lives in the database header, which is journaled like any
  // page: it commits or rolls back together with the steps.
  POSD_RETURN_IF_ERROR(db.Execute(absl::StrCat("PRAGMA user_version = ", latest)));
  return transaction.Commit();
}

}  // namespace posd::store
