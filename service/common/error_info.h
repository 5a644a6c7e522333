// Machine-readable error details carried inside an absl::Status.
//
// An error gets its reason where it arises (engine, validation, devices) and
// keeps it across every module boundary as a payload of the absl::Status; the
// API edge (service/api/status_conversion.h) turns it into the
// posd.v1.ErrorStatus / posd.v1.ErrorInfo of proto/posd/v1/errors.proto in
// grpc-status-details-bin. This header includes no generated code, so every
// layer may use it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posd {

// posd.v1.ErrorReason, number for number: error_info_test checks every value
// against the proto's descriptor, so a reason added to one and not the other
// fails the build's tests.
enum class ErrorReason : int {
  kUnspecified = 0,
  kRequestIdReused = 1,
  kInvalidField = 2,
  kCurrencyMismatch = 3,
  kInvalidState = 4,
  kPaymentInDoubt = 5,
  kPaymentInFlight = 6,
  kAmountTooLarge = 7,
  kDeviceNotReady = 8,
  kHookVeto = 9,
  kEventsPruned = 10,
  kInstanceMismatch = 11,
  kInvalidPageToken = 12,
  kNotYetAvailable = 13,
  kRoleRequired = 14,
  kClientTooSlow = 15,
  kAmountMismatch = 16,
};

// "ERROR_REASON_INVALID_FIELD" for kInvalidField: the proto's value name.
std::string_view ErrorReasonName(ErrorReason reason);

// Every reason above, in number order (for tests and tables).
const std::initializer_list<ErrorReason>& AllErrorReasons();

// What posd.v1.ErrorInfo holds, without the generated type.
// Every member has a default, so designated initializers may leave any out.
struct ErrorDetails {
  ErrorReason reason = ErrorReason::kUnspecified;
  // "order", "payment", "refund", "device", "hook_run", "plugin", "event",
  // "bundle", ... or empty.
  std::string subject_type{};
  std::string subject_id{};
  // lower_snake_case keys: "field" for the offending request field,
  // "device_state", "plugin", "oldest_sequence", ...
  std::map<std::string, std::string> metadata{};

  friend bool operator==(const ErrorDetails&, const ErrorDetails&) = default;
};

// `status` with `details` attached (replacing details attached before). An OK
// status is returned unchanged: details belong to errors only.
absl::Status WithErrorDetails(absl::Status status, const ErrorDetails& details);

// The details attached to `status`, if any (nullopt also for a payload that
// does not decode, which only a bug could produce).
std::optional<ErrorDetails> GetErrorDetails(const absl::Status& status);

// Shorthands for the most common refusals.
// INVALID_ARGUMENT, reason INVALID_FIELD, metadata["field"] = field.
absl::Status InvalidFieldError(std::string_view field, std::string_view message);
// FAILED_PRECONDITION, reason INVALID_STATE, about (subject_type, subject_id).
absl::Status InvalidStateError(std::string_view subject_type, std::string_view subject_id,
                               std::string_view message);

// Caller input as an error message may quote it: at most `max_chars` bytes
// (cut at a UTF-8 character boundary), in double quotes, with "..." and the
// full length when cut, and non-printable bytes as '?'. Error messages travel
// in gRPC metadata, whose size is limited: never copy unbounded input there.
std::string QuoteInput(std::string_view input, std::size_t max_chars = 40);

}  // namespace posd
