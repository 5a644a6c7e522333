// Reads of orders, payments, refunds and events on read-only connections
// (WAL readers), so reads never wait for the writer and never block it.
//
// Each call takes a reader from a small pool (opening one when none is free)
// and reads inside one read transaction, so a list and its as_of_sequence
// are one consistent snapshot.
//
// Lifetime: `store` must outlive the Queries. Thread safety: every method is
// thread-safe; concurrent calls use distinct connections.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "posd/v1/audit.pb.h"
#include "posd/v1/events.pb.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "service/hooks/hook_run_store.h"
#include "service/store/store.h"

namespace posd::engine {

// Whether `event` passes `filter` (EventFilter's documented meaning).
bool EventMatches(const posd::v1::Event& event, const posd::v1::EventFilter& filter);

class Queries {
 public:
  explicit Queries(store::Store& store) : store_(store) {}
  Queries(const Queries&) = delete;
  Queries& operator=(const Queries&) = delete;

  // NOT_FOUND when there is no such resource; INVALID_ARGUMENT for an empty id.
  absl::StatusOr<posd::v1::Order> GetOrder(std::string_view id);
  absl::StatusOr<posd::v1::Payment> GetPayment(std::string_view id);
  absl::StatusOr<posd::v1::Refund> GetRefund(std::string_view id);
  // Newest first. INVALID_ARGUMENT for a page token from other filters.
  absl::StatusOr<posd::v1::ListOrdersResponse> ListOrders(const posd::v1::ListOrdersRequest& request);
  absl::StatusOr<posd::v1::ListPaymentsResponse> ListPayments(
      const posd::v1::ListPaymentsRequest& request);
  // Oldest first, durable events only.
  absl::StatusOr<posd::v1::ListEventsResponse> ListEvents(const posd::v1::ListEventsRequest& request);

  // Hook runs (hook_run_rows.h). GetHookRun: INVALID_ARGUMENT for an empty
  // id, NOT_FOUND for an unknown one.
  absl::StatusOr<hooks::HookRunPage> ListHookRuns(const hooks::HookRunFilter& filter);
  absl::StatusOr<hooks::HookRun> GetHookRun(std::string_view id);
  // When the earliest claimable run is due, in milliseconds.
  absl::StatusOr<std::optional<int64_t>> NextHookRunDueMillis();

  // The audit log, newest first. INVALID_ARGUMENT for a page token from
  // other filters or an occurred_after later than occurred_before.
  absl::StatusOr<posd::v1::ListAuditRecordsResponse> ListAuditRecords(
      const posd::v1::ListAuditRecordsRequest& request);

  // Up to `max` stored events with sequence > `after`, ascending.
  absl::StatusOr<std::vector<posd::v1::Event>> ReadEvents(uint64_t after, size_t max);
  // The newest stored sequence (0 for an empty log).
  absl::StatusOr<uint64_t> HeadSequence();
  // The largest stored id of each kind the engine generates (orders,
  // payments, refunds); absent kinds are left out.
  absl::StatusOr<std::vector<std::string>> LargestGeneratedIds();

 private:
  class Lease;
  absl::StatusOr<std::unique_ptr<store::Database>> Borrow();
  void Return(std::unique_ptr<store::Database> reader);

  store::Store& store_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<store::Database>> idle_;  // guarded by mutex_
};

}  // namespace posd::engine
