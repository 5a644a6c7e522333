#include "service/store/transaction.h"

#include <utility>

#include "service/store/database.h"

namespace posd::store {

absl::StatusOr<Transaction> Transaction::Begin(Database& db) {
  if (db.in_transaction()) {
    return absl::FailedPreconditionError(
        "a transaction is already open on this connection; SQLite does not nest them");
  }
  absl::Status status = db.Execute("BEGIN IMMEDIATE");
  if (!status.ok()) return status;
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    (void)Rollback();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Transaction::~Transaction() { (void)Rollback(); }

absl::Status Transaction::Commit() {
  if (db_ == nullptr) return absl::FailedPreconditionError("transaction already finished");
  Database* db = std::exchange(db_, nullptr);
  absl::Status status = db->Execute("COMMIT");
  // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or already
  // rolled back (SQLITE_FULL, I/O errors); either way, end it so the caller
  // sees all-or-nothing.
  if (!status.ok() && db->in_transaction()) (void)db->Execute("ROLLBACK");
  return status;
}

absl::Status Transaction::Rollback() {
  if (db_ == nullptr) return absl::OkStatus();
  Database* db = std::exchange(db_, nullptr);
  // SQLite rolls back by itself after some errors (disk full, I/O errors);
  // ROLLBACK then would fail with "no transaction is active".
  if (!db->in_transaction()) return absl::OkStatus();
  return db->Execute("ROLLBACK");
}

}  // namespace posd::store
