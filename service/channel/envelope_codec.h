// Encoding, decoding and validation of link envelopes
// (proto/posd/link/v1/envelope.proto), shared by both ends of the protocol.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posd/link/v1/envelope.pb.h"

namespace posd::channel {

namespace v1 = ::posd::link::v1;

// The protocol version this code speaks (Hello.protocol_version).
inline constexpr uint32_t kProtocolVersion = 1;
// Longest transaction_id accepted (envelope.proto, Sale.transaction_id).
inline constexpr size_t kMaxTransactionIdLength = 64;

std::vector<uint8_t> EncodeEnvelope(const v1::Envelope& envelope);

// INVALID_ARGUMENT when the bytes are not an Envelope. An envelope with no
// body (unknown to this version) parses; callers answer UNKNOWN_BODY.
absl::StatusOr<v1::Envelope> DecodeEnvelope(std::span<const uint8_t> bytes);

// "hello", "sale", ... for logs; "none" when no body is set.
std::string_view BodyName(const v1::Envelope& envelope);

// INVALID_ARGUMENT naming the offending field (Error.field on the wire).
absl::Status ValidateTransactionId(std::string_view id);
absl::Status ValidateSale(const v1::Sale& sale);
absl::Status ValidateRefund(const v1::Refund& refund);

// A masked PAN as posd may keep it: digits and '*' only, 12 to 19
// characters, at most the first 6 and last 4 digits in clear. Anything that
// shows more is masked further; anything else becomes empty. Never logs or
// returns more digits than it was given.
std::string SanitizeMaskedPan(std::string_view text);

// The field name Error.field uses for a validation failure of ValidateSale /
// ValidateRefund: the text before the first ':' of the message.
std::string FieldOf(const absl::Status& status);

}  // namespace posd::channel
