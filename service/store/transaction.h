// Transaction: a write transaction on one Database.
//
// Begin() issues BEGIN IMMEDIATE, so the write lock is taken up front and a
// conflict surfaces at Begin (UNAVAILABLE) rather than halfway through the
// work. Nothing is committed unless Commit() is called and succeeds; a
// Transaction destroyed while still open rolls back, so an early return on
// an error can never leave half a change behind.
//
// Lifetime and ownership: borrows the Database, which must outlive it.
// Movable, not copyable. Thread safety: as its Database.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posd::store {

class Database;

class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(Database& db);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Makes the changes durable. On failure (disk full, I/O error) the
  // transaction is rolled back and the database keeps its previous content.
  absl::Status Commit();
  // Discards the changes now rather than at destruction.
  absl::Status Rollback();

  // True until Commit() or Rollback() has been called.
  bool active() const { return db_ != nullptr; }

 private:
  explicit Transaction(Database* db) : db_(db) {}

  Database* db_;  // nullptr once finished
};

}  // namespace posd::store
