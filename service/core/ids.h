// Sortable unique ids: a kind prefix plus a ULID, e.g.
// "pay_01HF7YAT00V3DQ4XK2M8E9R6ZB".
//
// The ULID is 26 characters of Crockford base32 (0-9, A-Z without I, L, O, U;
// upper case only): 48 bits of Unix milliseconds then 80 bits that are random
// for the first id of a millisecond and incremented for the next ones. So ids
// of one kind sort by text in creation order, including within a millisecond
// (the store can page by id), and the prefix tells a person reading a log what
// an id names.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/common/clock.h"
#include "service/core/random_source.h"

namespace posd::core {

enum class IdKind {
  kOrder,    // "ord_"
  kPayment,  // "pay_"
  kRefund,   // "ref_"
  kDevice,   // "dev_"  a terminal as posd registered it
  kHookRun,  // "hook_" one run of an after-hook (its idempotency key)
  kEvent,    // "evt_"  an entry of the event log
  kAudit,    // "aud_"  an entry of the audit log
};

inline constexpr std::array kAllIdKinds = {IdKind::kOrder,   IdKind::kPayment, IdKind::kRefund,
                                           IdKind::kDevice,  IdKind::kHookRun, IdKind::kEvent,
                                           IdKind::kAudit};

// "order", "payment", ... for messages.
std::string_view ToString(IdKind kind);
// "ord_", "pay_", ...
std::string_view IdPrefix(IdKind kind);
// The kind an id's prefix names; INVALID_ARGUMENT for an unknown prefix.
absl::StatusOr<IdKind> IdKindOf(std::string_view id);

// OK when `id` is a well-formed id of `kind`; otherwise INVALID_ARGUMENT with
// a message saying what is wrong (wrong prefix, length, character).
absl::Status ValidateId(IdKind kind, std::string_view id);
// The Unix milliseconds encoded in a well-formed id of `kind`.
absl::StatusOr<int64_t> IdUnixMillis(IdKind kind, std::string_view id);

// A validated id of one kind. Distinct kinds are distinct types, so an order
// id cannot be passed where a payment id is expected. A plain value.
template <IdKind K>
class TypedId {
 public:
  static constexpr IdKind kKind = K;

  static absl::StatusOr<TypedId> Parse(std::string_view text) {
    if (absl::Status status = ValidateId(K, text); !status.ok()) return status;
    return TypedId(std::string(text));
  }

  const std::string& str() const { return text_; }

  friend bool operator==(const TypedId&, const TypedId&) = default;
  friend std::strong_ordering operator<=>(const TypedId&, const TypedId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TypedId& id) {
    return H::combine(std::move(h), id.text_);
  }
  friend std::ostream& operator<<(std::ostream& os, const TypedId& id) {
    return os << id.text_;
  }

 private:
  friend class IdGenerator;
  explicit TypedId(std::string text) : text_(std::move(text)) {}

  std::string text_;
};

using OrderId = TypedId<IdKind::kOrder>;
using PaymentId = TypedId<IdKind::kPayment>;
using RefundId = TypedId<IdKind::kRefund>;
using DeviceId = TypedId<IdKind::kDevice>;
using HookRunId = TypedId<IdKind::kHookRun>;
using EventId = TypedId<IdKind::kEvent>;
using AuditId = TypedId<IdKind::kAudit>;

// Makes new ids from the clock's wall time and the random source.
//
// Ids from one generator are strictly increasing in generation order (across
// all kinds), even when the wall clock stands still or steps back: the
// generator then keeps the last millisecond and increments the random part.
// Thread-safe. `clock` and `random` must outlive the generator, and `random`
// must not be used by anyone else meanwhile (it is called under the lock).
class IdGenerator {
 public:
  IdGenerator(const Clock& clock, RandomSource& random) : clock_(clock), random_(random) {}
  IdGenerator(const IdGenerator&) = delete;
  IdGenerator& operator=(const IdGenerator&) = delete;

  template <IdKind K>
  TypedId<K> Next() {
    return TypedId<K>(NextText(K));
  }
  // The same as Next<kind>() as text.
  std::string NextText(IdKind kind);

  // Makes every later id sort after `id` (a well-formed id of any kind),
  // whatever the wall clock says: the engine calls it at start with the
  // largest stored ids, so a clock stepped back across a restart cannot make
  // new ids sort before old ones. INVALID_ARGUMENT for a malformed id.
  absl::Status ContinueAfter(std::string_view id);

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  RandomSource& random_ ABSL_GUARDED_BY(mu_);
  int64_t last_millis_ ABSL_GUARDED_BY(mu_) = -1;
  // The 80-bit random part: 16 high bits and 64 low bits.
  uint16_t random_high_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t random_low_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace posd::core
