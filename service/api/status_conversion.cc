#include "service/api/status_conversion.h"

#include <string>
#include <string_view>

#include "posd/v1/errors.pb.h"
#include "service/common/strings.h"

namespace posd::api {
namespace {

// `text` cut to at most `max_bytes` without splitting a UTF-8 character.
std::string_view CutAtCharacter(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back off continuation bytes (10xxxxxx) so the cut lands on a lead byte.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string BoundedMessage(std::string_view message) {
  if (message.size() <= kMaxStatusMessageBytes) return std::string(message);
  constexpr std::string_view kCut = " ... (message cut)";
  std::string bounded(CutAtCharacter(message, kMaxStatusMessageBytes - kCut.size()));
  bounded += kCut;
  return bounded;
}

}  // namespace

ErrorReason DefaultReasonFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return ErrorReason::kInvalidField;
    case absl::StatusCode::kPermissionDenied: return ErrorReason::kRoleRequired;
    case absl::StatusCode::kFailedPrecondition: return ErrorReason::kInvalidState;
    case absl::StatusCode::kUnimplemented: return ErrorReason::kNotYetAvailable;
    // posd answers these two codes only for event streams (docs/api.md).
    case absl::StatusCode::kOutOfRange: return ErrorReason::kEventsPruned;
    case absl::StatusCode::kResourceExhausted: return ErrorReason::kClientTooSlow;
    default: return ErrorReason::kUnspecified;
  }
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const std::string message = BoundedMessage(ToStd(status.message()));
  ErrorDetails details;
  if (std::optional<ErrorDetails> attached = GetErrorDetails(status)) {
    details = *std::move(attached);
  } else {
    details.reason = DefaultReasonFor(status.code());
  }
  posd::v1::ErrorInfo info;
  info.set_reason(static_cast<posd::v1::ErrorReason>(details.reason));
  info.set_subject_type(std::string(CutAtCharacter(details.subject_type, 64)));
  info.set_subject_id(std::string(CutAtCharacter(details.subject_id, 128)));
  for (const auto& [key, value] : details.metadata) {
    (*info.mutable_metadata())[std::string(CutAtCharacter(key, 64))] =
        std::string(CutAtCharacter(value, 256));
  }
  posd::v1::ErrorStatus error_status;
  error_status.set_code(static_cast<int32_t>(status.code()));
  error_status.set_message(message);
  // Packing a generated message into an Any cannot fail.
  static_cast<void>(error_status.add_details()->PackFrom(info));
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      error_status.SerializeAsString());
}

}  // namespace posd::api
