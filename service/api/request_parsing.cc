#include "service/api/request_parsing.h"

#include <cstdint>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "service/common/error_info.h"
#include "service/common/strings.h"

namespace posd::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// Nested messages deeper than this are not searched (protobuf itself stops
// at 100; requests of posd.v1 nest four deep at most).
constexpr int kMaxDepth = 16;

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code_point = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and values beyond Unicode are not UTF-8.
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

// The path of the first string field in `bytes` (a `descriptor` message on
// the wire) whose text is not UTF-8, or empty when there is none.
std::string InvalidUtf8Field(const Descriptor& descriptor, std::string_view bytes,
                             const std::string& prefix, int depth) {
  UnknownFieldSet fields;
  if (depth > kMaxDepth || !fields.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return {};
  }
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& wire = fields.field(i);
    if (wire.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const FieldDescriptor* field = descriptor.FindFieldByNumber(wire.number());
    if (field == nullptr) continue;
    const std::string path = prefix + field->name();
    if (field->type() == FieldDescriptor::TYPE_STRING && !IsValidUtf8(wire.length_delimited())) {
      return path;
    }
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      std::string inner =
          InvalidUtf8Field(*field->message_type(), wire.length_delimited(), path + ".", depth + 1);
      if (!inner.empty()) return inner;
    }
  }
  return {};
}

}  // namespace

absl::Status ParseRequest(std::string_view bytes, google::protobuf::Message& request) {
  request.Clear();
  if (request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::OkStatus();
  }
  request.Clear();
  const std::string& type = request.GetDescriptor()->full_name();
  const std::string field = InvalidUtf8Field(*request.GetDescriptor(), bytes, "", 0);
  if (!field.empty()) {
    return WithErrorDetails(
        absl::InvalidArgumentError(StrCat(
            field, ": holds invalid UTF-8 (for instance a character cut in half); text fields of ",
            type, " must be UTF-8")),
        ErrorDetails{.reason = ErrorReason::kInvalidField, .metadata = {{"field", field}}});
  }
  return WithErrorDetails(
      absl::InvalidArgumentError(StrCat("the request is not a valid ", type,
                                        " (truncated or malformed bytes; text fields must be "
                                        "valid UTF-8)")),
      ErrorDetails{.reason = ErrorReason::kInvalidField, .metadata = {{"field", "request"}}});
}

absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message& request) {
  std::vector<grpc::Slice> slices;
  if (!bytes.Dump(&slices).ok()) {
    request.Clear();
    return absl::InvalidArgumentError("the request's bytes cannot be read");
  }
  if (slices.size() == 1) {
    return ParseRequest(
        std::string_view(reinterpret_cast<const char*>(slices[0].begin()), slices[0].size()),
        request);
  }
  std::string flat;
  flat.reserve(bytes.Length());
  for (const grpc::Slice& slice : slices) {
    flat.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return ParseRequest(flat, request);
}

}  // namespace posd::api
