// Idempotency of mutating requests and the audit log of operator actions.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/common/clock.h"
#include "service/store/database.h"

namespace posd::engine {

// One operator action, as written to the audit log.
struct AuditEntry {
  std::string actor;    // who: a user name, "unix-socket" or a token's label
  std::string role;     // ui, operator, fleet
  std::string action;   // e.g. "set_log_level"
  std::string subject;  // what it acted on, e.g. "log_level"
  std::string reason;   // why, when the action requires one
  std::string details;  // a short human-readable summary of the change
};

// Runs each mutating request at most once per request_id.
//
// Execute() looks the request_id up; a retry with the same method and the
// same request (by hash) gets the first response back and changes nothing; a
// reuse of the id for another method or other arguments is ALREADY_EXISTS.
// Otherwise `prepare` computes the response, which is stored together with
// the audit entry in one transaction; `apply` then makes the in-memory effect
// happen, only after the commit succeeded, so a failed write changes nothing.
//
// Thread-safe: calls are serialised on an internal mutex. `writer` and
// `clock` must outlive the journal.
class RequestJournal {
 public:
  RequestJournal(store::Database& writer, const Clock& clock) : writer_(writer), clock_(clock) {}

  absl::StatusOr<std::string> Execute(std::string_view request_id, std::string_view method,
                                      std::string_view request_bytes, const AuditEntry& audit,
                                      const std::function<absl::StatusOr<std::string>()>& prepare,
                                      const std::function<void()>& apply);

 private:
  std::mutex mutex_;
  store::Database& writer_;
  const Clock& clock_;
};

}  // namespace posd::engine
