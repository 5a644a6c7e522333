#include "service/engine/request_journal.h"

#include <chrono>

#include "service/common/error_info.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/store/transaction.h"

namespace posd::engine {

absl::Status ValidateRequestId(std::string_view request_id) {
  if (request_id.empty()) {
    return absl::InvalidArgumentError(
        "request_id is required on every change (any unique text, e.g. a UUID)");
  }
  if (request_id.size() > 128) {
    return absl::InvalidArgumentError("request_id is longer than 128 characters");
  }
  return absl::OkStatus();
}

// A 64-bit FNV-1a digest: enough to tell "same arguments" from "different
// arguments" for one request id, and stable across releases.
std::string RequestHash(std::string_view method, std::string_view request_bytes) {
  uint64_t hash = 1469598103934665603ULL;
  auto mix = [&hash](std::string_view bytes) {
    for (const char c : bytes) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
  };
  mix(method);
  mix(std::string_view("\0", 1));
  mix(request_bytes);
  return std::string(reinterpret_cast<const char*>(&hash), sizeof(hash));
}

absl::StatusOr<std::optional<std::string>> LookupRequest(store::Database& db,
                                                         std::string_view request_id,
                                                         std::string_view method,
                                                         std::string_view hash) {
  POSD_ASSIGN_OR_RETURN(store::Statement lookup,
                        db.Prepare("SELECT method, request_hash, response FROM "
                                   "idempotency_keys WHERE request_id = ?"));
  POSD_RETURN_IF_ERROR(lookup.BindText(1, request_id));
  POSD_ASSIGN_OR_RETURN(const bool seen, lookup.Step());
  if (!seen) return std::optional<std::string>();
  if (lookup.ColumnText(0) != method || lookup.ColumnBlob(1) != hash) {
    return WithErrorDetails(
        absl::AlreadyExistsError(StrCat("request_id ", QuoteInput(request_id),
                                        " was already used for ", lookup.ColumnText(0),
                                        " with other arguments; use a new request_id for a new "
                                        "request")),
        ErrorDetails{.reason = ErrorReason::kRequestIdReused,
                     .metadata = {{"field", "request_id"}}});
  }
  return std::optional<std::string>(std::string(lookup.ColumnBlob(2)));
}

absl::Status RecordRequest(store::Database& db, std::string_view request_id,
                           std::string_view method, std::string_view hash,
                           std::string_view response, int64_t now_ms) {
  POSD_ASSIGN_OR_RETURN(store::Statement insert,
                        db.Prepare("INSERT INTO idempotency_keys (request_id, method, "
                                   "request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)"));
  POSD_RETURN_IF_ERROR(insert.BindText(1, request_id));
  POSD_RETURN_IF_ERROR(insert.BindText(2, method));
  POSD_RETURN_IF_ERROR(insert.BindBlob(3, hash));
  POSD_RETURN_IF_ERROR(insert.BindBlob(4, response));
  POSD_RETURN_IF_ERROR(insert.BindInt64(5, now_ms));
  return insert.Run();
}

AuditEntry RefusedEntry(AuditEntry attempted, const absl::Status& refusal) {
  attempted.outcome = AuditOutcome::kRefused;
  attempted.error_message = std::string(ToStd(refusal.message()));
  attempted.details = StrCat("refused with ", absl::StatusCodeToString(refusal.code()));
  return attempted;
}

absl::Status AppendAudit(store::Database& db, const AuditEntry& audit, int64_t now_ms) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement insert,
      db.Prepare("INSERT INTO audit_log (at, actor, role, action, subject, reason, details, "
                 "request_id, outcome, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  POSD_RETURN_IF_ERROR(insert.BindInt64(1, now_ms));
  POSD_RETURN_IF_ERROR(insert.BindText(2, audit.actor));
  POSD_RETURN_IF_ERROR(insert.BindText(3, audit.role));
  POSD_RETURN_IF_ERROR(insert.BindText(4, audit.action));
  POSD_RETURN_IF_ERROR(insert.BindText(5, audit.subject));
  POSD_RETURN_IF_ERROR(insert.BindText(6, audit.reason));
  POSD_RETURN_IF_ERROR(insert.BindText(7, audit.details));
  POSD_RETURN_IF_ERROR(insert.BindText(8, audit.request_id));
  POSD_RETURN_IF_ERROR(
      insert.BindText(9, audit.outcome == AuditOutcome::kRefused ? "refused" : "succeeded"));
  POSD_RETURN_IF_ERROR(insert.BindText(10, audit.error_message));
  return insert.Run();
}

absl::StatusOr<std::string> RequestJournal::ExecuteIn(
    store::Database& db, std::string_view request_id, std::string_view method,
    std::string_view hash, const AuditEntry& audit,
    const std::function<absl::StatusOr<std::string>()>& prepare, bool& fresh) {
  fresh = false;
  POSD_ASSIGN_OR_RETURN(std::optional<std::string> earlier,
                        LookupRequest(db, request_id, method, hash));
  if (earlier.has_value()) return *std::move(earlier);
  fresh = true;
  POSD_ASSIGN_OR_RETURN(std::string response, prepare());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             clock_.WallNow().time_since_epoch())
                             .count();
  POSD_RETURN_IF_ERROR(RecordRequest(db, request_id, method, hash, response, now_ms));
  AuditEntry entry = audit;
  entry.request_id = std::string(request_id);
  POSD_RETURN_IF_ERROR(AppendAudit(db, entry, now_ms));
  return response;
}

absl::StatusOr<std::string> RequestJournal::Execute(
    std::string_view request_id, std::string_view method, std::string_view request_bytes,
    const AuditEntry& audit, const std::function<absl::StatusOr<std::string>()>& prepare,
    const std::function<void()>& apply) {
  POSD_RETURN_IF_ERROR(ValidateRequestId(request_id));
  const std::string hash = RequestHash(method, request_bytes);
  const std::lock_guard lock(mutex_);
  bool fresh = false;
  if (runner_ != nullptr) {
    absl::StatusOr<std::string> response;
    POSD_RETURN_IF_ERROR(runner_->RunWrite([&](store::Database& db) {
      response = ExecuteIn(db, request_id, method, hash, audit, prepare, fresh);
      return response.status();
    }));
    // A replay changes nothing: the first execution already applied.
    if (fresh) apply();
    return response;
  }
  POSD_ASSIGN_OR_RETURN(store::Transaction transaction, store::Transaction::Begin(*writer_));
  POSD_ASSIGN_OR_RETURN(std::string response,
                        ExecuteIn(*writer_, request_id, method, hash, audit, prepare, fresh));
  if (!fresh) return response;
  POSD_RETURN_IF_ERROR(transaction.Commit());
  apply();
  return response;
}

}  // namespace posd::engine
