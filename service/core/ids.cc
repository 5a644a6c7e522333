#include "service/core/ids.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "service/common/status_macros.h"
#include "service/common/strings.h"

namespace posd::core {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kUlidLength = 26;
// 48 bits of milliseconds reach the year 10889.
constexpr int64_t kMaxMillis = (int64_t{1} << 48) - 1;

int CrockfordValue(char c) {
  const std::size_t pos = kCrockford.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

std::string EncodeUlid(int64_t millis, uint16_t random_high, uint64_t random_low) {
  unsigned __int128 value = static_cast<unsigned __int128>(millis) << 80 |
                            static_cast<unsigned __int128>(random_high) << 64 | random_low;
  std::string out(kUlidLength, '0');
  for (std::size_t i = kUlidLength; i-- > 0;) {
    out[i] = kCrockford[static_cast<std::size_t>(value & 31)];
    value >>= 5;
  }
  return out;
}

}  // namespace

std::string_view ToString(IdKind kind) {
  switch (kind) {
    case IdKind::kOrder: return "order";
    case IdKind::kPayment: return "payment";
    case IdKind::kRefund: return "refund";
    case IdKind::kDevice: return "device";
    case IdKind::kHookRun: return "hook run";
    case IdKind::kEvent: return "event";
    case IdKind::kAudit: return "audit entry";
  }
  return "unknown id kind";
}

std::string_view IdPrefix(IdKind kind) {
  switch (kind) {
    case IdKind::kOrder: return "ord_";
    case IdKind::kPayment: return "pay_";
    case IdKind::kRefund: return "ref_";
    case IdKind::kDevice: return "dev_";
    case IdKind::kHookRun: return "hook_";
    case IdKind::kEvent: return "evt_";
    case IdKind::kAudit: return "aud_";
  }
  return "";
}

absl::StatusOr<IdKind> IdKindOf(std::string_view id) {
  for (IdKind kind : kAllIdKinds) {
    if (id.starts_with(IdPrefix(kind))) return kind;
  }
  return absl::InvalidArgumentError(
      posd::StrCat("id '", id, "' has no known kind prefix (ord_, pay_, ref_, ...)"));
}

absl::Status ValidateId(IdKind kind, std::string_view id) {
  const std::string_view prefix = IdPrefix(kind);
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        posd::StrCat("malformed ", ToString(kind), " id '", id, "': ", why));
  };
  if (!id.starts_with(prefix)) return invalid(posd::StrCat("must start with '", prefix, "'"));
  const std::string_view ulid = id.substr(prefix.size());
  if (ulid.size() != kUlidLength) {
    return invalid(posd::StrCat("expected ", kUlidLength, " characters after '", prefix,
                                "', got ", ulid.size()));
  }
  for (std::size_t i = 0; i < ulid.size(); ++i) {
    if (CrockfordValue(ulid[i]) < 0) {
      return invalid(posd::StrCat("character ", prefix.size() + i,
                                  " is not upper-case Crockford base32"));
    }
  }
  // 26 characters carry 130 bits; the first may only hold the top 3 of 128.
  if (CrockfordValue(ulid[0]) > 7) return invalid("timestamp out of range");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IdUnixMillis(IdKind kind, std::string_view id) {
  if (absl::Status status = ValidateId(kind, id); !status.ok()) return status;
  const std::string_view ulid = id.substr(IdPrefix(kind).size());
  // The first 10 characters carry 50 bits whose top 2 are zero: the 48-bit time.
  int64_t millis = 0;
  for (std::size_t i = 0; i < 10; ++i) millis = millis << 5 | CrockfordValue(ulid[i]);
  return millis;
}

std::string IdGenerator::NextText(IdKind kind) {
  const int64_t now_millis = std::clamp<int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          clock_.WallNow().time_since_epoch())
          .count(),
      0, kMaxMillis);
  absl::MutexLock lock(&mu_);
  bool fresh = now_millis > last_millis_;
  if (!fresh) {
    // Same millisecond (or the wall clock stepped back): increment the random
    // part so the id still sorts after the previous one.
    if (++random_low_ == 0 && ++random_high_ == 0) {
      // All 80 bits wrapped (practically never: 2^80 ids in one millisecond
      // or an unlucky start near the top). Borrow the next millisecond
      // rather than fail or repeat.
      last_millis_ = std::min(last_millis_ + 1, kMaxMillis);
      fresh = true;
    }
  } else {
    last_millis_ = now_millis;
  }
  if (fresh) {
    random_high_ = static_cast<uint16_t>(random_.NextUint64());
    random_low_ = random_.NextUint64();
  }
  return posd::StrCat(IdPrefix(kind), EncodeUlid(last_millis_, random_high_, random_low_));
}

absl::Status IdGenerator::ContinueAfter(std::string_view id) {
  POSD_ASSIGN_OR_RETURN(const IdKind kind, IdKindOf(id));
  POSD_RETURN_IF_ERROR(ValidateId(kind, id));
  const std::string_view ulid = id.substr(IdPrefix(kind).size());
  unsigned __int128 value = 0;
  for (char c : ulid) value = value << 5 | static_cast<unsigned>(CrockfordValue(c));
  const auto millis = static_cast<int64_t>(value >> 80);
  const auto high = static_cast<uint16_t>(value >> 64);
  const auto low = static_cast<uint64_t>(value);
  absl::MutexLock lock(&mu_);
  if (std::tie(millis, high, low) > std::tie(last_millis_, random_high_, random_low_)) {
    last_millis_ = millis;
    random_high_ = high;
    random_low_ = low;
  }
  return absl::OkStatus();
}

}  // namespace posd::core
