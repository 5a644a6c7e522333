// Idempotency of mutating requests and the audit log of operator actions.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/common/clock.h"
#include "service/store/database.h"

namespace posd::engine {

// Whether an audited action took effect (posd.v1.AuditOutcome).
enum class AuditOutcome { kSucceeded, kRefused };

// One operator action, as written to the audit log.
struct AuditEntry {
  std::string actor;    // who: a user name, "unix-socket" or a token's label
  std::string role;     // ui, operator, fleet
  std::string action;   // e.g. "set_log_level"
  std::string subject;  // what it acted on, e.g. "log_level"
  std::string reason;   // why, when the action requires one
  std::string details;  // a short human-readable summary of the change
  std::string request_id = {};  // of the call; empty for actions without one
  AuditOutcome outcome = AuditOutcome::kSucceeded;
  std::string error_message = {};  // for kRefused: the error the caller got
};

// `attempted` as a refusal: outcome kRefused, error_message the message of
// `refusal` (not OK), details naming its code.
AuditEntry RefusedEntry(AuditEntry attempted, const absl::Status& refusal);

// Runs work on posd's only write connection, inside a write transaction that
// it owns (the engine's group transaction, isolated by a savepoint). Blocks
// until the work is committed (OK) or discarded (its error, or the commit's).
// Thread-safe.
class WriteRunner {
 public:
  virtual ~WriteRunner() = default;
  virtual absl::Status RunWrite(const std::function<absl::Status(store::Database&)>& work) = 0;
};

// The pieces of the journal, for code that already holds a write transaction
// (the engine's commands). None of them begins or commits.

// OK for a usable request_id; INVALID_ARGUMENT when empty or longer than 128.
absl::Status ValidateRequestId(std::string_view request_id);
// A stable digest of (method, request bytes); stable across releases.
std::string RequestHash(std::string_view method, std::string_view request_bytes);
// The stored response of an earlier execution of `request_id`, nullopt when
// it is new; ALREADY_EXISTS when it was used for another method or with
// other arguments.
absl::StatusOr<std::optional<std::string>> LookupRequest(store::Database& db,
                                                         std::string_view request_id,
                                                         std::string_view method,
                                                         std::string_view hash);
absl::Status RecordRequest(store::Database& db, std::string_view request_id,
                           std::string_view method, std::string_view hash,
                           std::string_view response, int64_t now_ms);
absl::Status AppendAudit(store::Database& db, const AuditEntry& audit, int64_t now_ms);

// Runs each mutating request at most once per request_id.
//
// Execute() looks the request_id up; a retry with the same method and the
// same request (by hash) gets the first response back and changes nothing; a
// reuse of the id for another method or other arguments is ALREADY_EXISTS.
// Otherwise `prepare` computes the response, which is stored together with
// the audit entry (with the request_id) in one transaction; `apply` then makes the in-memory effect
// happen, only after the commit succeeded, so a failed write changes nothing.
//
// Thread-safe. `writer` (or `runner`) and `clock` must outlive the journal.
class RequestJournal {
 public:
  // Uses `writer` directly, with its own transactions: only while nobody
  // else writes (before the engine runs, tests).
  RequestJournal(store::Database& writer, const Clock& clock) : writer_(&writer), clock_(clock) {}
  // Goes through the engine, which owns the write connection once it runs.
  RequestJournal(WriteRunner& runner, const Clock& clock) : runner_(&runner), clock_(clock) {}

  absl::StatusOr<std::string> Execute(std::string_view request_id, std::string_view method,
                                      std::string_view request_bytes, const AuditEntry& audit,
                                      const std::function<absl::StatusOr<std::string>()>& prepare,
                                      const std::function<void()>& apply);

 private:
  absl::StatusOr<std::string> ExecuteIn(store::Database& db, std::string_view request_id,
                                        std::string_view method, std::string_view hash,
                                        const AuditEntry& audit,
                                        const std::function<absl::StatusOr<std::string>()>& prepare,
                                        bool& fresh);

  std::mutex mutex_;
  store::Database* writer_ = nullptr;
  WriteRunner* runner_ = nullptr;
  const Clock& clock_;
};

}  // namespace posd::engine
