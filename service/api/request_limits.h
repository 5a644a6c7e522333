// Declared limits of every request field of posd.v1: one table per message.
//
// The API edge checks each request against these tables before any domain
// code runs (request_validator.h); docs/api.md ("Limits") lists the same
// numbers for UI developers. A request message's table names every one of its
// fields (CheckRequestLimits proves it); a nested message's table names the
// fields read on input, and the fields it leaves out are output-only, ignored
// on input as docs/api.md says.
//
// Constant data; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "absl/status/status.h"

namespace posd::api {

// Largest amount or tip, in minor units, that a request may carry: 10^11
// (a billion euros in cents). Sums of up to kMaxOrderLines lines of at most
// kMaxLineQuantity each stay far inside int64.
inline constexpr int64_t kMaxAmountMinor = 100'000'000'000;
inline constexpr int64_t kMaxLineQuantity = 10'000;
inline constexpr size_t kMaxOrderLines = 200;

// Which characters a text field may hold (its bytes are valid UTF-8 already:
// the request parsed).
enum class Chars {
  kText,      // any character but control characters other than tab and newline
  kLine,      // any character but control characters (one line)
  kId,        // ASCII letters, digits, '_' and '-' (posd's resource ids)
  kDeviceId,  // a lower-case letter, then lower-case letters, digits and '-'
  kToken,     // printable ASCII without spaces (request ids, page tokens)
  kKey,       // ASCII letters, digits, '.', '_' and '-' (map keys, names)
  kCurrency,  // an ISO 4217 code posd knows (service/core/currency.h)
};

struct FieldLimit {
  std::string_view field = {};  // name of the field in its message
  // Strings: not empty; messages: present; enums: not *_UNSPECIFIED;
  // repeated fields: at least one item.
  bool required = false;
  // Strings (each item of a repeated string): at most this many bytes.
  size_t max_bytes = 256;
  Chars chars = Chars::kLine;
  // Strings: more than white space (reasons must say something).
  bool says_something = false;
  // Integers.
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  // Repeated fields and maps: at most this many items.
  size_t max_items = 100;
  // Maps: keys of Chars::kKey up to 64 bytes; values up to this many bytes.
  size_t max_value_bytes = 256;
  // Messages: the table to check them by, when not their type's own (e.g.
  // "posd.v1.Order#update": an update names only what its mask changes).
  std::string_view table = {};
};

struct MessageLimits {
  // Full name, "posd.v1.CreatePaymentRequest", plus "#variant" for a table
  // that fields name through FieldLimit::table.
  std::string_view message;
  std::span<const FieldLimit> fields;
};

// The table named `name` (see MessageLimits::message), or nullptr.
const MessageLimits* FindMessageLimits(std::string_view name);

// Every table.
std::span<const MessageLimits> AllMessageLimits();

// OK when the request message of every method of the API has a table that
// names each of its fields, and every table names fields that exist;
// FAILED_PRECONDITION naming the first gap otherwise.
absl::Status CheckRequestLimits();

}  // namespace posd::api
