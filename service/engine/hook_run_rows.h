// Reading and writing after-hook runs as rows of the hook_runs outbox
// (service/store/migrations.cc, v2 to v4), as hooks::HookRun values.
//
// Like resource_rows.h, the functions neither begin nor commit: the caller
// holds the transaction (the engine's writer) or a read snapshot (a reader).
// Thread safety: as the Database passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/hook_run.h"
#include "service/hooks/hook_run_store.h"
#include "service/store/database.h"

namespace posd::engine {

// Inserts `run` (its id, state, times, snapshot, ...). Returns false, and
// writes nothing, when a run with the same idempotency key exists already:
// a transition never creates the same run twice.
absl::StatusOr<bool> InsertHookRun(store::Database& db, const hooks::HookRun& run);
// The run with public id `run_id`; nullopt when there is none.
absl::StatusOr<std::optional<hooks::HookRun>> LoadHookRun(store::Database& db,
                                                          std::string_view run_id);
// Writes the mutable fields: state, attempts, last_error, next_attempt_at,
// updated_at, completed_at. NOT_FOUND for an unknown id.
absl::Status UpdateHookRun(store::Database& db, const hooks::HookRun& run);

// Public ids of claimable runs due at `now_ms`, oldest due first, at most
// `limit`.
absl::StatusOr<std::vector<std::string>> DueHookRunIds(store::Database& db, int64_t now_ms,
                                                       int limit);
// Public ids of RUNNING runs.
absl::StatusOr<std::vector<std::string>> RunningHookRunIds(store::Database& db);
// When the earliest claimable run is due (milliseconds); nullopt when none is.
absl::StatusOr<std::optional<int64_t>> NextHookRunDueMillis(store::Database& db);

// A page of runs matching `filter`, newest first. Page tokens are bound to
// the filter they came from; INVALID_ARGUMENT for a malformed one or one from
// other filters, and for a page size above 500 it is clamped.
absl::StatusOr<hooks::HookRunPage> ListHookRunRows(store::Database& db,
                                                   const hooks::HookRunFilter& filter);

}  // namespace posd::engine
