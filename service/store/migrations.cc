#include "service/store/migrations.h"

#include "absl/strings/str_cat.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
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

// Orders, payments and refunds. Amounts are INTEGER minor units of the row's
// currency, never REAL. Statuses are the core state names ("IN_DOUBT").
// posd stores no card data beyond brand and masked PAN (DESIGN.md).
constexpr std::string_view kV3OrdersAndPayments = R"sql(
CREATE TABLE orders (
  id                  TEXT PRIMARY KEY,
  status              TEXT NOT NULL,
  currency            TEXT NOT NULL,
  external_reference  TEXT NOT NULL DEFAULT '',
  note                TEXT NOT NULL DEFAULT '',
  cancel_reason       TEXT NOT NULL DEFAULT '',
  request_id          TEXT NOT NULL DEFAULT '',
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  placed_at           INTEGER,
  closed_at           INTEGER,
  last_event_sequence INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX orders_by_status ON orders (status, id);
CREATE INDEX orders_by_reference ON orders (external_reference, id);

CREATE TABLE order_lines (
  order_id         TEXT NOT NULL REFERENCES orders (id),
  position         INTEGER NOT NULL,
  line_id          TEXT NOT NULL,
  sku              TEXT NOT NULL,
  name             TEXT NOT NULL DEFAULT '',
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
  PRIMARY KEY (order_id, position)
) STRICT;

-- Discounts granted by beforeOrder / beforePayment hooks.
CREATE TABLE order_discounts (
  order_id     TEXT NOT NULL REFERENCES orders (id),
  position     INTEGER NOT NULL,
  plugin       TEXT NOT NULL,
  coupon_code  TEXT NOT NULL DEFAULT '',
  description  TEXT NOT NULL DEFAULT '',
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  line_id      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (order_id, position)
) STRICT;

CREATE TABLE order_coupons (
  order_id TEXT NOT NULL REFERENCES orders (id),
  position INTEGER NOT NULL,
  code     TEXT NOT NULL,
  PRIMARY KEY (order_id, position)
) STRICT;

CREATE TABLE order_labels (
  order_id TEXT NOT NULL REFERENCES orders (id),
  key      TEXT NOT NULL,
  value    TEXT NOT NULL,
  PRIMARY KEY (order_id, key)
) STRICT;

-- recovery_point says what a restarted posd does with the payment: 'none'
-- (it has an outcome), 'not_sent' (CREATED: nothing left posd, it fails),
-- 'query' (the terminal may have it: IN_DOUBT and a status query).
CREATE TABLE payments (
  id                      TEXT PRIMARY KEY,
  order_id                TEXT REFERENCES orders (id),
  device_id               TEXT NOT NULL,
  status                  TEXT NOT NULL,
  currency                TEXT NOT NULL,
  amount_minor            INTEGER NOT NULL CHECK (amount_minor > 0),
  tip_minor               INTEGER NOT NULL DEFAULT 0 CHECK (tip_minor >= 0),
  charged_minor           INTEGER,
  refunded_minor          INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
  terminal_transaction_id TEXT NOT NULL UNIQUE,
  recovery_point          TEXT NOT NULL CHECK (recovery_point IN ('none', 'not_sent', 'query')),
  cancel_requested        INTEGER NOT NULL DEFAULT 0,
  card_brand              TEXT NOT NULL DEFAULT '',
  masked_pan              TEXT NOT NULL DEFAULT '',
  approval_code           TEXT NOT NULL DEFAULT '',
  terminal_reference      TEXT NOT NULL DEFAULT '',
  decline_code            TEXT NOT NULL DEFAULT '',
  failure_reason          TEXT NOT NULL DEFAULT '',
  terminal_stage          TEXT NOT NULL DEFAULT '',
  terminal_message        TEXT NOT NULL DEFAULT '',
  resolved_by             TEXT NOT NULL DEFAULT '',
  resolved_at             INTEGER,
  resolution_reason       TEXT NOT NULL DEFAULT '',
  resolution_outcome      TEXT NOT NULL DEFAULT '',
  request_id              TEXT NOT NULL DEFAULT '',
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL,
  completed_at            INTEGER,
  last_event_sequence     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX payments_by_order ON payments (order_id, id);
CREATE INDEX payments_by_status ON payments (status, id);
CREATE INDEX payments_by_device ON payments (device_id, status);
CREATE INDEX payments_to_recover ON payments (recovery_point) WHERE recovery_point <> 'none';

CREATE TABLE refunds (
  id                  TEXT PRIMARY KEY,
  payment_id          TEXT NOT NULL REFERENCES payments (id),
  device_id           TEXT NOT NULL,
  status              TEXT NOT NULL,
  currency            TEXT NOT NULL,
  amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
  reason              TEXT NOT NULL,
  recovery_point      TEXT NOT NULL CHECK (recovery_point IN ('none', 'not_sent', 'query')),
  failure_reason      TEXT NOT NULL DEFAULT '',
  approval_code       TEXT NOT NULL DEFAULT '',
  terminal_reference  TEXT NOT NULL DEFAULT '',
  resolved_by         TEXT NOT NULL DEFAULT '',
  resolved_at         INTEGER,
  resolution_reason   TEXT NOT NULL DEFAULT '',
  resolution_outcome  TEXT NOT NULL DEFAULT '',
  requested_by        TEXT NOT NULL DEFAULT '',
  request_id          TEXT NOT NULL DEFAULT '',
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  completed_at        INTEGER,
  last_event_sequence INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX refunds_by_payment ON refunds (payment_id, id);
CREATE INDEX refunds_to_recover ON refunds (recovery_point) WHERE recovery_point <> 'none';

-- What an after-hook run is about, as it was when the transition committed
-- (opaque bytes of the hooks library), and the event that created the run.
ALTER TABLE hook_runs ADD COLUMN subject_snapshot BLOB NOT NULL DEFAULT x'';
ALTER TABLE hook_runs ADD COLUMN trigger_sequence INTEGER NOT NULL DEFAULT 0;
)sql";

// Hook runs get the public, time-sortable id the API shows ("hook_..."; the
// integer key stays for ordering and paging) and the time they ended. Rows
// written before have no public id yet: they get one derived from their key,
// which sorts before every generated one.
constexpr std::string_view kV4HookRunIds = R"sql(
ALTER TABLE hook_runs ADD COLUMN run_id TEXT;
ALTER TABLE hook_runs ADD COLUMN completed_at INTEGER;
UPDATE hook_runs SET run_id = printf('hook_0%025d', id) WHERE run_id IS NULL;
CREATE UNIQUE INDEX hook_runs_by_run_id ON hook_runs (run_id);
)sql";

// WebSocket terminals: the id a terminal advertises in discovery (so posd
// can follow it to a new address) and whether its link uses TLS.
constexpr std::string_view kV5WebSocketDevices = R"sql(
ALTER TABLE devices ADD COLUMN ws_terminal_id TEXT;
ALTER TABLE devices ADD COLUMN ws_tls INTEGER NOT NULL DEFAULT 0 CHECK (ws_tls IN (0, 1));
CREATE UNIQUE INDEX devices_by_terminal_id ON devices (ws_terminal_id)
  WHERE ws_terminal_id IS NOT NULL;
)sql";

// Audit records say which call they belong to and whether the action took
// effect: refused operator actions are recorded too (audit.proto,
// AuditOutcome), with the error the caller got. Rows written before were all
// actions that took effect.
constexpr std::string_view kV6AuditOutcomes = R"sql(
ALTER TABLE audit_log ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'succeeded'
  CHECK (outcome IN ('succeeded', 'refused'));
ALTER TABLE audit_log ADD COLUMN error_message TEXT NOT NULL DEFAULT '';
)sql";

constexpr Migration kMigrations[] = {
    {1, "foundation: instance, event log, audit log, idempotency keys", kV1Foundation},
    {2, "device registry and hook outbox", kV2DevicesAndHooks},
    {3, "orders, payments and refunds", kV3OrdersAndPayments},
    {4, "hook run ids and completion times", kV4HookRunIds},
    {5, "websocket terminals: terminal id and tls", kV5WebSocketDevices},
    {6, "audit outcome and request ids", kV6AuditOutcomes},
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
                                       ToAbsl(migration.name), ") failed, database left at version ",
                                       current, ": ", status.message()));
    }
  }
  // user_version lives in the database header, which is journaled like any
  // page: it commits or rolls back together with the steps.
  POSD_RETURN_IF_ERROR(db.Execute(absl::StrCat("PRAGMA user_version = ", latest)));
  return transaction.Commit();
}

}  // namespace posd::store
