#include "service/channel/envelope_codec.h"

#include <algorithm>

#include "service/common/strings.h"

namespace posd::channel {

std::vector<uint8_t> EncodeEnvelope(const v1::Envelope& envelope) {
  std::vector<uint8_t> bytes(envelope.ByteSizeLong());
  envelope.SerializeToArray(bytes.data(), static_cast<int>(bytes.size()));
  return bytes;
}

absl::StatusOr<v1::Envelope> DecodeEnvelope(std::span<const uint8_t> bytes) {
  v1::Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(StrCat("envelope: ", bytes.size(), " bytes do not parse"));
  }
  return envelope;
}

std::string_view BodyName(const v1::Envelope& envelope) {
  switch (envelope.body_case()) {
    case v1::Envelope::kHello: return "hello";
    case v1::Envelope::kHelloAck: return "hello_ack";
    case v1::Envelope::kSale: return "sale";
    case v1::Envelope::kRefund: return "refund";
    case v1::Envelope::kCancel: return "cancel";
    case v1::Envelope::kStatusQuery: return "status_query";
    case v1::Envelope::kStatusReply: return "status_reply";
    case v1::Envelope::kProgress: return "progress";
    case v1::Envelope::kResult: return "result";
    case v1::Envelope::kHeartbeat: return "heartbeat";
    case v1::Envelope::kHeartbeatAck: return "heartbeat_ack";
    case v1::Envelope::kDeviceInfoRequest: return "device_info_request";
    case v1::Envelope::kDeviceInfo: return "device_info";
    case v1::Envelope::kError: return "error";
    case v1::Envelope::BODY_NOT_SET: break;
  }
  return "none";
}

absl::Status ValidateTransactionId(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("transaction_id: empty");
  if (id.size() > kMaxTransactionIdLength) {
    return absl::InvalidArgumentError(
        StrCat("transaction_id: longer than ", kMaxTransactionIdLength, " characters"));
  }
  const bool printable =
      std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!printable) return absl::InvalidArgumentError("transaction_id: not printable ASCII");
  return absl::OkStatus();
}

namespace {

absl::Status ValidateCurrency(std::string_view code) {
  const bool ok = code.size() == 3 &&
                  std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!ok) return absl::InvalidArgumentError("currency_code: not an ISO 4217 code");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSale(const v1::Sale& sale) {
  if (absl::Status s = ValidateTransactionId(sale.transaction_id()); !s.ok()) return s;
  if (sale.amount_minor() <= 0) return absl::InvalidArgumentError("amount_minor: not positive");
  if (sale.tip_minor() < 0) return absl::InvalidArgumentError("tip_minor: negative");
  if (sale.reference().size() > 32) {
    return absl::InvalidArgumentError("reference: longer than 32 characters");
  }
  return ValidateCurrency(sale.currency_code());
}

absl::Status ValidateRefund(const v1::Refund& refund) {
  if (absl::Status s = ValidateTransactionId(refund.transaction_id()); !s.ok()) return s;
  if (absl::Status s = ValidateTransactionId(refund.original_transaction_id()); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("original_", s.message()));
  }
  if (refund.amount_minor() <= 0) return absl::InvalidArgumentError("amount_minor: not positive");
  return ValidateCurrency(refund.currency_code());
}

std::string SanitizeMaskedPan(std::string_view text) {
  constexpr size_t kHead = 6, kTail = 4;
  const bool charset =
      std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || c == '*'; });
  if (!charset || text.size() < 12 || text.size() > 19) return {};
  std::string masked(text);
  for (size_t i = kHead; i < masked.size() - kTail; ++i) masked[i] = '*';
  return masked;
}

std::string FieldOf(const absl::Status& status) {
  std::string_view message = ToStd(status.message());
  size_t colon = message.find(':');
  return std::string(colon == std::string_view::npos ? std::string_view() : message.substr(0, colon));
}

}  // namespace posd::channel
