#include "service/engine/hook_run_rows.h"

#include <algorithm>
#include <charconv>

#include "service/common/error_info.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/engine/domain_conversion.h"
#include "service/engine/request_journal.h"
#include "service/store/statement.h"

namespace posd::engine {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

constexpr char kColumns[] =
    "id, run_id, hook_point, plugin, subject_id, idempotency_key, state, attempts, last_error, "
    "next_attempt_at, trigger_sequence, created_at, updated_at, completed_at, subject_snapshot";

// Reads the row at the statement's cursor (selected with kColumns). Sets
// `key` to the integer key, for paging.
absl::StatusOr<hooks::HookRun> RowToRun(const store::Statement& row, int64_t* key = nullptr) {
  if (key != nullptr) *key = row.ColumnInt64(0);
  auto damaged = [&](const absl::Status& status) {
    return absl::DataLossError(
        StrCat("hook run ", row.ColumnText(1), " is damaged: ", status.message()));
  };
  absl::StatusOr<hooks::HookPoint> point = hooks::ParseHookPoint(row.ColumnText(2));
  if (!point.ok()) return damaged(point.status());
  absl::StatusOr<hooks::HookRunState> state = hooks::ParseHookRunState(row.ColumnText(6));
  if (!state.ok()) return damaged(state.status());
  hooks::HookRun run{.id = std::string(row.ColumnText(1)),
                     .hook_point = *point,
                     .plugin = std::string(row.ColumnText(3)),
                     .subject_id = std::string(row.ColumnText(4)),
                     .idempotency_key = std::string(row.ColumnText(5)),
                     .state = *state,
                     .attempts = static_cast<int>(row.ColumnInt64(7)),
                     .last_error = std::string(row.ColumnText(8)),
                     .trigger_sequence = static_cast<uint64_t>(row.ColumnInt64(10)),
                     .created_at = FromMillis(row.ColumnInt64(11)),
                     .updated_at = FromMillis(row.ColumnInt64(12)),
                     .subject_snapshot = std::string(row.ColumnBlob(14))};
  // next_attempt_at is NOT NULL in the table; it means something only while
  // the run waits for an attempt.
  if (hooks::IsClaimable(run.state)) run.next_attempt_at = FromMillis(row.ColumnInt64(9));
  if (!row.ColumnIsNull(13)) run.completed_at = FromMillis(row.ColumnInt64(13));
  return run;
}

absl::StatusOr<std::vector<std::string>> Ids(store::Statement& select) {
  std::vector<std::string> ids;
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return ids;
    ids.emplace_back(select.ColumnText(0));
  }
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char c : bytes) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex;
}

// "<digest of the filters>:": a token is only valid with the filters it came
// from, so a client cannot page through one listing with another's cursor.
std::string TokenPrefix(const hooks::HookRunFilter& filter) {
  std::string canonical = "states=";
  for (hooks::HookRunState state : filter.states) canonical += StrCat(hooks::ToString(state), ",");
  canonical = StrCat(canonical, ";point=",
                     filter.hook_point ? hooks::ToString(*filter.hook_point) : "", ";plugin=",
                     filter.plugin, ";subject=", filter.subject_id);
  return StrCat(HexOf(RequestHash("posd.hook_runs", canonical)).substr(0, 16), ":");
}

std::string TokenCheck(std::string_view position) {
  return HexOf(RequestHash("posd.hook_runs.page", position)).substr(0, 8);
}

}  // namespace

absl::StatusOr<bool> InsertHookRun(store::Database& db, const hooks::HookRun& run) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement insert,
      db.Prepare("INSERT INTO hook_runs (run_id, hook_point, plugin, subject_id, idempotency_key, "
                 "state, attempts, last_error, next_attempt_at, trigger_sequence, created_at, "
                 "updated_at, completed_at, subject_snapshot) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (idempotency_key) DO NOTHING"));
  POSD_RETURN_IF_ERROR(insert.BindText(1, run.id));
  POSD_RETURN_IF_ERROR(insert.BindText(2, hooks::ToString(run.hook_point)));
  POSD_RETURN_IF_ERROR(insert.BindText(3, run.plugin));
  POSD_RETURN_IF_ERROR(insert.BindText(4, run.subject_id));
  POSD_RETURN_IF_ERROR(insert.BindText(5, run.idempotency_key));
  POSD_RETURN_IF_ERROR(insert.BindText(6, hooks::ToString(run.state)));
  POSD_RETURN_IF_ERROR(insert.BindInt64(7, run.attempts));
  POSD_RETURN_IF_ERROR(insert.BindText(8, run.last_error));
  POSD_RETURN_IF_ERROR(
      insert.BindInt64(9, ToMillis(run.next_attempt_at.value_or(run.created_at))));
  POSD_RETURN_IF_ERROR(insert.BindInt64(10, static_cast<int64_t>(run.trigger_sequence)));
  POSD_RETURN_IF_ERROR(insert.BindInt64(11, ToMillis(run.created_at)));
  POSD_RETURN_IF_ERROR(insert.BindInt64(12, ToMillis(run.updated_at)));
  if (run.completed_at) {
    POSD_RETURN_IF_ERROR(insert.BindInt64(13, ToMillis(*run.completed_at)));
  } else {
    POSD_RETURN_IF_ERROR(insert.BindNull(13));
  }
  POSD_RETURN_IF_ERROR(insert.BindBlob(14, run.subject_snapshot));
  POSD_RETURN_IF_ERROR(insert.Run());
  return db.changes() > 0;
}

absl::StatusOr<std::optional<hooks::HookRun>> LoadHookRun(store::Database& db,
                                                          std::string_view run_id) {
  POSD_ASSIGN_OR_RETURN(store::Statement select,
                        db.Prepare(StrCat("SELECT ", kColumns, " FROM hook_runs WHERE run_id = ?")));
  POSD_RETURN_IF_ERROR(select.BindText(1, run_id));
  POSD_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (!found) return std::optional<hooks::HookRun>();
  POSD_ASSIGN_OR_RETURN(hooks::HookRun run, RowToRun(select));
  return std::optional<hooks::HookRun>(std::move(run));
}

absl::Status UpdateHookRun(store::Database& db, const hooks::HookRun& run) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement update,
      db.Prepare("UPDATE hook_runs SET state = ?, attempts = ?, last_error = ?, "
                 "next_attempt_at = ?, updated_at = ?, completed_at = ? WHERE run_id = ?"));
  POSD_RETURN_IF_ERROR(update.BindText(1, hooks::ToString(run.state)));
  POSD_RETURN_IF_ERROR(update.BindInt64(2, run.attempts));
  POSD_RETURN_IF_ERROR(update.BindText(3, run.last_error));
  POSD_RETURN_IF_ERROR(
      update.BindInt64(4, ToMillis(run.next_attempt_at.value_or(run.updated_at))));
  POSD_RETURN_IF_ERROR(update.BindInt64(5, ToMillis(run.updated_at)));
  if (run.completed_at) {
    POSD_RETURN_IF_ERROR(update.BindInt64(6, ToMillis(*run.completed_at)));
  } else {
    POSD_RETURN_IF_ERROR(update.BindNull(6));
  }
  POSD_RETURN_IF_ERROR(update.BindText(7, run.id));
  POSD_RETURN_IF_ERROR(update.Run());
  if (db.changes() == 0) return absl::NotFoundError(StrCat("no hook run ", run.id));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> DueHookRunIds(store::Database& db, int64_t now_ms,
                                                       int limit) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement select,
      db.Prepare("SELECT run_id FROM hook_runs WHERE state IN ('PENDING', 'RETRY_SCHEDULED') "
                 "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"));
  POSD_RETURN_IF_ERROR(select.BindInt64(1, now_ms));
  POSD_RETURN_IF_ERROR(select.BindInt64(2, std::max(limit, 0)));
  return Ids(select);
}

absl::StatusOr<std::vector<std::string>> RunningHookRunIds(store::Database& db) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement select,
      db.Prepare("SELECT run_id FROM hook_runs WHERE state = 'RUNNING' ORDER BY id"));
  return Ids(select);
}

absl::StatusOr<std::optional<int64_t>> NextHookRunDueMillis(store::Database& db) {
  POSD_ASSIGN_OR_RETURN(
      store::Statement select,
      db.Prepare("SELECT min(next_attempt_at) FROM hook_runs "
                 "WHERE state IN ('PENDING', 'RETRY_SCHEDULED')"));
  POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
  if (!row || select.ColumnIsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(select.ColumnInt64(0));
}

absl::StatusOr<hooks::HookRunPage> ListHookRunRows(store::Database& db,
                                                   const hooks::HookRunFilter& filter) {
  const std::string prefix = TokenPrefix(filter);
  int64_t before = 0;  // 0: from the newest
  if (!filter.page_token.empty()) {
    // "<prefix><key>.<check>": the check catches a token cut short or edited.
    const std::string& token = filter.page_token;
    const size_t dot = token.rfind('.');
    const bool ours = token.size() > prefix.size() && token.compare(0, prefix.size(), prefix) == 0 &&
                      dot != std::string::npos && dot > prefix.size() &&
                      token.substr(dot + 1) == TokenCheck(token.substr(0, dot));
    const char* begin = token.data() + prefix.size();
    const char* end = token.data() + (ours ? dot : token.size());
    auto [ptr, ec] = ours ? std::from_chars(begin, end, before) : std::from_chars(end, end, before);
    if (!ours || ec != std::errc() || ptr != end || before <= 0) {
      return WithErrorDetails(
          absl::InvalidArgumentError(
              "page_token is malformed or belongs to a request with other filters"),
          ErrorDetails{.reason = ErrorReason::kInvalidPageToken,
                       .metadata = {{"field", "page_token"}}});
    }
  }
  std::string where = "1";
  std::vector<std::string> texts;
  if (!filter.states.empty()) {
    where += " AND state IN (";
    for (size_t i = 0; i < filter.states.size(); ++i) {
      where += i == 0 ? "?" : ", ?";
      texts.emplace_back(hooks::ToString(filter.states[i]));
    }
    where += ")";
  }
  if (filter.hook_point) {
    where += " AND hook_point = ?";
    texts.emplace_back(hooks::ToString(*filter.hook_point));
  }
  if (!filter.plugin.empty()) {
    where += " AND plugin = ?";
    texts.push_back(filter.plugin);
  }
  if (!filter.subject_id.empty()) {
    where += " AND subject_id = ?";
    texts.push_back(filter.subject_id);
  }
  if (before > 0) where += " AND id < ?";
  const int page_size =
      filter.page_size <= 0 ? kDefaultPageSize : std::min(filter.page_size, kMaxPageSize);
  POSD_ASSIGN_OR_RETURN(store::Statement select,
                        db.Prepare(StrCat("SELECT ", kColumns, " FROM hook_runs WHERE ", where,
                                          " ORDER BY id DESC LIMIT ?")));
  int index = 1;
  for (const std::string& text : texts) POSD_RETURN_IF_ERROR(select.BindText(index++, text));
  if (before > 0) POSD_RETURN_IF_ERROR(select.BindInt64(index++, before));
  // One more than a page: whether another page follows.
  POSD_RETURN_IF_ERROR(select.BindInt64(index, page_size + 1));
  hooks::HookRunPage page;
  int64_t last_key = 0;
  while (true) {
    POSD_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) break;
    if (static_cast<int>(page.runs.size()) == page_size) {
      const std::string position = StrCat(prefix, last_key);
      page.next_page_token = StrCat(position, ".", TokenCheck(position));
      break;
    }
    POSD_ASSIGN_OR_RETURN(hooks::HookRun run, RowToRun(select, &last_key));
    page.runs.push_back(std::move(run));
  }
  return page;
}

}  // namespace posd::engine
