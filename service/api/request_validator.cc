#include "service/api/request_validator.h"

#include <string>
#include <string_view>

#include "google/protobuf/descriptor.h"
#include "service/api/request_limits.h"
#include "service/common/error_info.h"
#include "service/common/strings.h"
#include "service/core/currency.h"

namespace posd::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Reflection;

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// What `chars` allows, for messages; empty when every character passed.
std::string_view CharsProblem(std::string_view value, Chars chars) {
  switch (chars) {
    case Chars::kText:
    case Chars::kLine:
      for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        const bool allowed_space = chars == Chars::kText && (c == '\t' || c == '\n');
        if ((byte < 0x20 || byte == 0x7f) && !allowed_space) {
          return "must not hold control characters";
        }
      }
      return {};
    case Chars::kId:
      for (const char c : value) {
        if (!IsAsciiAlnum(c) && c != '_' && c != '-') {
          return "may only contain ASCII letters, digits, '_' and '-'";
        }
      }
      return {};
    case Chars::kDeviceId:
      if (value.front() < 'a' || value.front() > 'z') return "must start with a lower-case letter";
      for (const char c : value) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
          return "may only contain lower-case letters, digits and '-'";
        }
      }
      return {};
    case Chars::kToken:
      for (const char c : value) {
        if (c <= 0x20 || c >= 0x7f) return "may only contain printable ASCII without spaces";
      }
      return {};
    case Chars::kKey:
      for (const char c : value) {
        if (!IsAsciiAlnum(c) && c != '.' && c != '_' && c != '-') {
          return "may only contain ASCII letters, digits, '.', '_' and '-'";
        }
      }
      return {};
    case Chars::kCurrency:
      if (!core::CurrencyCode::Parse(value).ok()) {
        return "is not an ISO 4217 currency code posd knows (three upper-case letters, e.g. "
               "EUR)";
      }
      return {};
  }
  return {};
}

bool IsBlank(std::string_view value) {
  return value.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos;
}

class Validator {
 public:
  absl::Status Check(const google::protobuf::Message& message, const std::string& path,
                     std::string_view table = {}) {
    const Descriptor* descriptor = message.GetDescriptor();
    const MessageLimits* limits =
        FindMessageLimits(table.empty() ? std::string_view(descriptor->full_name()) : table);
    if (limits == nullptr) return absl::OkStatus();
    for (const FieldLimit& limit : limits->fields) {
      const FieldDescriptor* field = descriptor->FindFieldByName(std::string(limit.field));
      if (field == nullptr) continue;  // CheckRequestLimits reports these
      const std::string where = path.empty() ? field->name() : StrCat(path, ".", field->name());
      absl::Status status = field->is_map()        ? Map(message, *field, limit, where)
                            : field->is_repeated() ? Repeated(message, *field, limit, where)
                                                   : Singular(message, *field, limit, where);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

 private:
  static absl::Status Invalid(std::string_view where, std::string_view what) {
    return InvalidFieldError(where, StrCat(where, ": ", what));
  }

  absl::Status Text(std::string_view value, const FieldLimit& limit, std::string_view where) {
    if (value.empty()) {
      return limit.required ? Invalid(where, "is required") : absl::OkStatus();
    }
    if (value.size() > limit.max_bytes) {
      return Invalid(where, StrCat("is longer than ", limit.max_bytes, " bytes (got ",
                                   value.size(), ")"));
    }
    if (limit.says_something && IsBlank(value)) {
      return Invalid(where, "must say something (it is only white space)");
    }
    if (std::string_view problem = CharsProblem(value, limit.chars); !problem.empty()) {
      return Invalid(where, StrCat(QuoteInput(value), " ", problem));
    }
    return absl::OkStatus();
  }

  absl::Status Integer(int64_t value, const FieldLimit& limit, std::string_view where) {
    if (value < limit.min) return Invalid(where, StrCat("must be at least ", limit.min, " (got ", value, ")"));
    if (value > limit.max) return Invalid(where, StrCat("must be at most ", limit.max, " (got ", value, ")"));
    return absl::OkStatus();
  }

  absl::Status Enum(const FieldDescriptor& field, int value, bool required,
                    std::string_view where) {
    if (field.enum_type()->FindValueByNumber(value) == nullptr) {
      return Invalid(where, StrCat(value, " is not a value of ", field.enum_type()->full_name()));
    }
    if (value == 0 && required) {
      return Invalid(where, StrCat("is required (", field.enum_type()->value(0)->name(),
                                   " is not a choice)"));
    }
    return absl::OkStatus();
  }

  absl::Status Singular(const google::protobuf::Message& message, const FieldDescriptor& field,
                        const FieldLimit& limit, std::string_view where) {
    const Reflection& reflection = *message.GetReflection();
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return Text(reflection.GetString(message, &field), limit, where);
      case FieldDescriptor::CPPTYPE_INT32:
        return Integer(reflection.GetInt32(message, &field), limit, where);
      case FieldDescriptor::CPPTYPE_INT64:
        return Integer(reflection.GetInt64(message, &field), limit, where);
      case FieldDescriptor::CPPTYPE_UINT32:
        return Integer(reflection.GetUInt32(message, &field), limit, where);
      case FieldDescriptor::CPPTYPE_UINT64: {
        const uint64_t value = reflection.GetUInt64(message, &field);
        if (value > static_cast<uint64_t>(limit.max)) {
          return Invalid(where, StrCat("must be at most ", limit.max, " (got ", value, ")"));
        }
        return Integer(static_cast<int64_t>(value), limit, where);
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        return Enum(field, reflection.GetEnumValue(message, &field), limit.required, where);
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (!reflection.HasField(message, &field)) {
          return limit.required ? Invalid(where, "is required") : absl::OkStatus();
        }
        return Check(reflection.GetMessage(message, &field), std::string(where), limit.table);
      default:
        return absl::OkStatus();
    }
  }

  absl::Status Repeated(const google::protobuf::Message& message, const FieldDescriptor& field,
                        const FieldLimit& limit, std::string_view where) {
    const Reflection& reflection = *message.GetReflection();
    const int size = reflection.FieldSize(message, &field);
    if (size == 0 && limit.required) return Invalid(where, "needs at least one item");
    if (static_cast<size_t>(size) > limit.max_items) {
      return Invalid(where, StrCat("has more than ", limit.max_items, " items (got ", size, ")"));
    }
    FieldLimit item_limit = limit;
    item_limit.required = true;  // an empty item in a list says nothing
    for (int i = 0; i < size; ++i) {
      const std::string item = StrCat(where, "[", i, "]");
      absl::Status status = absl::OkStatus();
      switch (field.cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          status = Text(reflection.GetRepeatedString(message, &field, i), item_limit, item);
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          // An UNSPECIFIED filter value would match nothing the server returns.
          status = Enum(field, reflection.GetRepeatedEnumValue(message, &field, i), true, item);
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          status = Check(reflection.GetRepeatedMessage(message, &field, i), item, limit.table);
          break;
        default:
          break;
      }
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  absl::Status Map(const google::protobuf::Message& message, const FieldDescriptor& field,
                   const FieldLimit& limit, std::string_view where) {
    const Reflection& reflection = *message.GetReflection();
    const int size = reflection.FieldSize(message, &field);
    if (static_cast<size_t>(size) > limit.max_items) {
      return Invalid(where, StrCat("has more than ", limit.max_items, " entries (got ", size, ")"));
    }
    const FieldDescriptor* key_field = field.message_type()->map_key();
    const FieldDescriptor* value_field = field.message_type()->map_value();
    const FieldLimit key_limit{.required = true, .max_bytes = 64, .chars = Chars::kKey};
    const FieldLimit value_limit{.max_bytes = limit.max_value_bytes, .chars = Chars::kText};
    for (int i = 0; i < size; ++i) {
      const google::protobuf::Message& entry = reflection.GetRepeatedMessage(message, &field, i);
      const Reflection& entry_reflection = *entry.GetReflection();
      if (key_field->cpp_type() != FieldDescriptor::CPPTYPE_STRING ||
          value_field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
        continue;
      }
      const std::string key = entry_reflection.GetString(entry, key_field);
      if (absl::Status status = Text(key, key_limit, StrCat(where, " key")); !status.ok()) {
        return status;
      }
      const std::string item = StrCat(where, "[", QuoteInput(key, 64), "]");
      if (absl::Status status = Text(entry_reflection.GetString(entry, value_field), value_limit,
                                     item);
          !status.ok()) {
        return status;
      }
    }
    return absl::OkStatus();
  }
};

}  // namespace

absl::Status ValidateRequest(const google::protobuf::Message& request) {
  return Validator().Check(request, "");
}

}  // namespace posd::api
