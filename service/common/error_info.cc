#include "service/common/error_info.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "absl/strings/cord.h"
#include "service/common/strings.h"

namespace posd {
namespace {

// The payload's type URL; private to posd (the API edge repackages it).
constexpr char kPayloadUrl[] = "type.posd.dev/posd.ErrorDetails";

// Payload layout: fields as "<decimal length>:<bytes>", in the order reason,
// subject_type, subject_id, then key and value of each metadata entry.
void AppendField(std::string& out, std::string_view field) {
  out += StrCat(field.size(), ":", field);
}

bool ReadField(std::string_view& in, std::string& field) {
  const std::size_t colon = in.find(':');
  if (colon == std::string_view::npos) return false;
  std::size_t length = 0;
  const auto [end, error] = std::from_chars(in.data(), in.data() + colon, length);
  if (error != std::errc() || end != in.data() + colon || length > in.size() - colon - 1) {
    return false;
  }
  field.assign(in.substr(colon + 1, length));
  in.remove_prefix(colon + 1 + length);
  return true;
}

}  // namespace

std::string_view ErrorReasonName(ErrorReason reason) {
  switch (reason) {
    case ErrorReason::kUnspecified: return "ERROR_REASON_UNSPECIFIED";
    case ErrorReason::kRequestIdReused: return "ERROR_REASON_REQUEST_ID_REUSED";
    case ErrorReason::kInvalidField: return "ERROR_REASON_INVALID_FIELD";
    case ErrorReason::kCurrencyMismatch: return "ERROR_REASON_CURRENCY_MISMATCH";
    case ErrorReason::kInvalidState: return "ERROR_REASON_INVALID_STATE";
    case ErrorReason::kPaymentInDoubt: return "ERROR_REASON_PAYMENT_IN_DOUBT";
    case ErrorReason::kPaymentInFlight: return "ERROR_REASON_PAYMENT_IN_FLIGHT";
    case ErrorReason::kAmountTooLarge: return "ERROR_REASON_AMOUNT_TOO_LARGE";
    case ErrorReason::kDeviceNotReady: return "ERROR_REASON_DEVICE_NOT_READY";
    case ErrorReason::kHookVeto: return "ERROR_REASON_HOOK_VETO";
    case ErrorReason::kEventsPruned: return "ERROR_REASON_EVENTS_PRUNED";
    case ErrorReason::kInstanceMismatch: return "ERROR_REASON_INSTANCE_MISMATCH";
    case ErrorReason::kInvalidPageToken: return "ERROR_REASON_INVALID_PAGE_TOKEN";
    case ErrorReason::kNotYetAvailable: return "ERROR_REASON_NOT_YET_AVAILABLE";
    case ErrorReason::kRoleRequired: return "ERROR_REASON_ROLE_REQUIRED";
    case ErrorReason::kClientTooSlow: return "ERROR_REASON_CLIENT_TOO_SLOW";
    case ErrorReason::kAmountMismatch: return "ERROR_REASON_AMOUNT_MISMATCH";
  }
  return "ERROR_REASON_UNSPECIFIED";
}

const std::initializer_list<ErrorReason>& AllErrorReasons() {
  static const std::initializer_list<ErrorReason> kAll = {
      ErrorReason::kUnspecified,      ErrorReason::kRequestIdReused,
      ErrorReason::kInvalidField,     ErrorReason::kCurrencyMismatch,
      ErrorReason::kInvalidState,     ErrorReason::kPaymentInDoubt,
      ErrorReason::kPaymentInFlight,  ErrorReason::kAmountTooLarge,
      ErrorReason::kDeviceNotReady,   ErrorReason::kHookVeto,
      ErrorReason::kEventsPruned,     ErrorReason::kInstanceMismatch,
      ErrorReason::kInvalidPageToken, ErrorReason::kNotYetAvailable,
      ErrorReason::kRoleRequired,     ErrorReason::kClientTooSlow,
      ErrorReason::kAmountMismatch,
  };
  return kAll;
}

absl::Status WithErrorDetails(absl::Status status, const ErrorDetails& details) {
  if (status.ok()) return status;
  std::string payload;
  AppendField(payload, StrCat(static_cast<int>(details.reason)));
  AppendField(payload, details.subject_type);
  AppendField(payload, details.subject_id);
  for (const auto& [key, value] : details.metadata) {
    AppendField(payload, key);
    AppendField(payload, value);
  }
  status.SetPayload(kPayloadUrl, absl::Cord(payload));
  return status;
}

std::optional<ErrorDetails> GetErrorDetails(const absl::Status& status) {
  const absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const std::string flat(*payload);
  std::string_view in(flat);
  ErrorDetails details;
  std::string reason;
  int number = 0;
  if (!ReadField(in, reason)) return std::nullopt;
  const auto [end, error] = std::from_chars(reason.data(), reason.data() + reason.size(), number);
  if (error != std::errc() || end != reason.data() + reason.size()) return std::nullopt;
  details.reason = static_cast<ErrorReason>(number);
  if (!ReadField(in, details.subject_type) || !ReadField(in, details.subject_id)) {
    return std::nullopt;
  }
  while (!in.empty()) {
    std::string key, value;
    if (!ReadField(in, key) || !ReadField(in, value)) return std::nullopt;
    details.metadata[std::move(key)] = std::move(value);
  }
  return details;
}

absl::Status InvalidFieldError(std::string_view field, std::string_view message) {
  return WithErrorDetails(absl::InvalidArgumentError(ToAbsl(message)),
                          {.reason = ErrorReason::kInvalidField,
                           .metadata = {{"field", std::string(field)}}});
}

absl::Status InvalidStateError(std::string_view subject_type, std::string_view subject_id,
                               std::string_view message) {
  return WithErrorDetails(absl::FailedPreconditionError(ToAbsl(message)),
                          {.reason = ErrorReason::kInvalidState,
                           .subject_type = std::string(subject_type),
                           .subject_id = std::string(subject_id)});
}

std::string QuoteInput(std::string_view input, std::size_t max_chars) {
  std::size_t cut = std::min(input.size(), max_chars);
  // Back up to a character boundary: never split a UTF-8 sequence.
  if (cut < input.size()) {
    while (cut > 0 && (static_cast<unsigned char>(input[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string quoted = "\"";
  for (std::size_t i = 0; i < cut; ++i) {
    const unsigned char c = static_cast<unsigned char>(input[i]);
    quoted.push_back(c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c));
  }
  quoted.push_back('"');
  if (cut < input.size()) quoted += StrCat("... (", input.size(), " bytes)");
  return quoted;
}

}  // namespace posd
