// The terminal's durable memory of transactions: an append-only journal file
// (the "ledger") of Started and Finished records, each written with
// fdatasync before the terminal acts on it. It is how a terminal answers a
// repeated Sale or Refund with the remembered Result instead of charging
// again, across its own crashes and power losses, and it is the ground truth
// tests compare against (every approved sale in it was charged once).
//
// File format: the 8 bytes "POSDLGR1", then records, each
//   u32 LE length | u32 LE CRC-32C of the payload | payload (LedgerRecord)
// A crash can leave at most one torn record at the end: Open drops it (and
// anything after a bad CRC) and truncates the file there, so that nothing
// written after recovery follows garbage. Every record ever written is kept
// (far more than the 1000 results the protocol asks for).
//
// Ownership: owns the file descriptor. Not thread-safe: one owner. Only one
// process may open a ledger at a time (enforced with flock: FAILED_PRECONDITION).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger_record.pb.h"
#include "service/common/clock.h"

namespace posd::channel {

class ResultLedger {
 public:
  // Opens or creates `path`, replays it and repairs a torn tail. Errors:
  // NOT_FOUND (folder missing), PERMISSION_DENIED, FAILED_PRECONDITION (in
  // use by another process), DATA_LOSS (not a ledger file), UNAVAILABLE (I/O).
  // `clock` (wall time of records) must outlive the ledger.
  static absl::StatusOr<std::unique_ptr<ResultLedger>> Open(const std::filesystem::path& path,
                                                            const Clock& clock);
  ~ResultLedger();
  ResultLedger(const ResultLedger&) = delete;
  ResultLedger& operator=(const ResultLedger&) = delete;

  // Reads a ledger without opening it for writing (tolerates a torn tail),
  // one entry per transaction in the order they started.
  static absl::StatusOr<std::vector<ledger::LedgerTransaction>> ReadTransactions(
      const std::filesystem::path& path);

  // Every record as written, in file order (a torn tail dropped), without
  // opening the ledger for writing. ReadTransactions keeps only the first
  // Started and Finished per transaction; these are what a check counts to
  // prove that no transaction was recorded, or charged, twice.
  static absl::StatusOr<std::vector<ledger::LedgerRecord>> ReadRecords(
      const std::filesystem::path& path);

  // The transaction, or nullptr if the ledger has never seen it.
  const ledger::LedgerTransaction* Find(std::string_view transaction_id) const;

  // Durably records that a transaction starts. ALREADY_EXISTS if known.
  absl::Status RecordStarted(const ledger::Started& started);

  // Durably records the outcome. NOT_FOUND if never started;
  // FAILED_PRECONDITION if it already finished (outcomes never change).
  absl::Status RecordFinished(const ::posd::link::v1::Result& result);

  // Transactions started and not finished (after a crash), in start order.
  std::vector<std::string> Unfinished() const;

  // Sum of the approved refunds of `original_transaction_id`, minor units.
  int64_t RefundedMinor(std::string_view original_transaction_id) const;

  size_t transaction_count() const { return order_.size(); }
  // Approved sales and refunds, for status lines.
  size_t approved_count() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  ResultLedger(std::filesystem::path path, int fd, const Clock& clock);
  absl::Status Append(ledger::LedgerRecord& record);
  void Apply(const ledger::LedgerRecord& record);

  std::filesystem::path path_;
  int fd_;
  const Clock& clock_;
  uint64_t next_sequence_ = 1;
  std::map<std::string, ledger::LedgerTransaction, std::less<>> by_id_;
  std::vector<std::string> order_;
};

}  // namespace posd::channel
