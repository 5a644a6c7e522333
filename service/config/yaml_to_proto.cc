#include "service/config/yaml_to_proto.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "service/common/strings.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/struct.pb.h"
#include "service/common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace posd::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Carries the position of the value being read, for error messages.
struct Location {
  std::string_view source;
  std::string key_path;
};

absl::Status Error(const Location& at, const YAML::Node& node, std::string_view problem) {
  const YAML::Mark mark = node.Mark();
  const std::string line = mark.is_null() ? "" : StrCat(":", mark.line + 1);
  const std::string key = at.key_path.empty() ? std::string("(top level)") : at.key_path;
  return absl::InvalidArgumentError(StrCat(at.source, line, ": ", key, ": ", problem));
}

std::string_view NodeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Null: return "empty";
    case YAML::NodeType::Undefined: break;
  }
  return "undefined";
}

// "PaymentState" -> "PAYMENT_STATE_", the prefix Google's style puts on values.
std::string EnumValuePrefix(const google::protobuf::EnumDescriptor& type) {
  std::string prefix;
  for (const char c : type.name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix.push_back('_');
    prefix.push_back(absl::ascii_toupper(c));
  }
  prefix.push_back('_');
  return prefix;
}

// YAML's plain scalars are untyped text; a quoted scalar is always a string.
bool IsQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

template <typename Int>
absl::StatusOr<Int> ParseInteger(const Location& at, const YAML::Node& node) {
  if (!node.IsScalar() || IsQuoted(node)) {
    return Error(at, node, "expected a whole number");
  }
  const std::string& text = node.Scalar();
  Int value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) {
    return Error(at, node, StrCat("'", text, "' is out of range (", std::numeric_limits<Int>::min(),
                                        " to ", std::numeric_limits<Int>::max(), ")"));
  }
  if (error != std::errc() || end != text.data() + text.size()) {
    return Error(at, node, StrCat("'", text, "' is not a whole number"));
  }
  return value;
}

absl::StatusOr<bool> ParseBool(const Location& at, const YAML::Node& node) {
  if (node.IsScalar() && !IsQuoted(node)) {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  return Error(at, node, "expected true or false");
}

absl::StatusOr<double> ParseDouble(const Location& at, const YAML::Node& node) {
  if (!node.IsScalar() || IsQuoted(node)) return Error(at, node, "expected a number");
  const std::string& text = node.Scalar();
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Error(at, node, StrCat("'", text, "' is not a number"));
  }
  return value;
}

absl::Status FillMessage(const Location& at, const YAML::Node& node, Message& message);

// Free-form settings (google.protobuf.Struct) keep YAML's structure; plain
// scalars that read as numbers or booleans become those, as in JSON.
absl::Status FillValue(const Location& at, const YAML::Node& node, google::protobuf::Value& value) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      value.set_null_value(google::protobuf::NULL_VALUE);
      return absl::OkStatus();
    case YAML::NodeType::Scalar: {
      if (!IsQuoted(node)) {
        const std::string& text = node.Scalar();
        if (text == "true" || text == "false") {
          value.set_bool_value(text == "true");
          return absl::OkStatus();
        }
        double number = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (error == std::errc() && end == text.data() + text.size()) {
          value.set_number_value(number);
          return absl::OkStatus();
        }
      }
      value.set_string_value(node.Scalar());
      return absl::OkStatus();
    }
    case YAML::NodeType::Sequence:
      for (std::size_t i = 0; i < node.size(); ++i) {
        Location item_at{at.source, StrCat(at.key_path, "[", i, "]")};
        POSD_RETURN_IF_ERROR(FillValue(item_at, node[i], *value.mutable_list_value()->add_values()));
      }
      return absl::OkStatus();
    case YAML::NodeType::Map:
      for (const auto& entry : node) {
        const std::string key = entry.first.as<std::string>();
        Location child_at{at.source, StrCat(at.key_path, ".", key)};
        POSD_RETURN_IF_ERROR(
            FillValue(child_at, entry.second, (*value.mutable_struct_value()->mutable_fields())[key]));
      }
      return absl::OkStatus();
  }
  return Error(at, node, "cannot be read");
}

absl::Status SetScalar(const Location& at, const YAML::Node& node, const FieldDescriptor& field,
                       Message& message) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      if (!node.IsScalar()) {
        return Error(at, node, StrCat("expected text, found ", NodeKind(node)));
      }
      repeated ? reflection.AddString(&message, &field, node.Scalar())
               : reflection.SetString(&message, &field, node.Scalar());
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      POSD_ASSIGN_OR_RETURN(const bool value, ParseBool(at, node));
      repeated ? reflection.AddBool(&message, &field, value)
               : reflection.SetBool(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      POSD_ASSIGN_OR_RETURN(const int32_t value, ParseInteger<int32_t>(at, node));
      repeated ? reflection.AddInt32(&message, &field, value)
               : reflection.SetInt32(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      POSD_ASSIGN_OR_RETURN(const int64_t value, ParseInteger<int64_t>(at, node));
      repeated ? reflection.AddInt64(&message, &field, value)
               : reflection.SetInt64(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      POSD_ASSIGN_OR_RETURN(const uint32_t value, ParseInteger<uint32_t>(at, node));
      repeated ? reflection.AddUInt32(&message, &field, value)
               : reflection.SetUInt32(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      POSD_ASSIGN_OR_RETURN(const uint64_t value, ParseInteger<uint64_t>(at, node));
      repeated ? reflection.AddUInt64(&message, &field, value)
               : reflection.SetUInt64(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      POSD_ASSIGN_OR_RETURN(const double value, ParseDouble(at, node));
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? reflection.AddDouble(&message, &field, value)
                 : reflection.SetDouble(&message, &field, value);
      } else {
        repeated ? reflection.AddFloat(&message, &field, static_cast<float>(value))
                 : reflection.SetFloat(&message, &field, static_cast<float>(value));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (!node.IsScalar()) return Error(at, node, "expected one of the names listed for this key");
      // Accept both the full name (ROLE_OPERATOR) and the short one (operator).
      const auto* value = field.enum_type()->FindValueByName(node.Scalar());
      if (value == nullptr) {
        value = field.enum_type()->FindValueByName(
            StrCat(EnumValuePrefix(*field.enum_type()), absl::AsciiStrToUpper(node.Scalar())));
      }
      if (value == nullptr || value->number() == 0) {
        std::vector<std::string> allowed;
        for (int i = 1; i < field.enum_type()->value_count(); ++i) {
          allowed.push_back(field.enum_type()->value(i)->name());
        }
        return Error(at, node, StrCat("'", node.Scalar(), "' is not one of: ",
                                            absl::StrJoin(allowed, ", ")));
      }
      repeated ? reflection.AddEnum(&message, &field, value)
               : reflection.SetEnum(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* child = repeated ? reflection.AddMessage(&message, &field)
                                : reflection.MutableMessage(&message, &field);
      return FillMessage(at, node, *child);
    }
  }
  return Error(at, node, "has a type the configuration loader does not support");
}

absl::Status FillMessage(const Location& at, const YAML::Node& node, Message& message) {
  if (node.IsNull()) return absl::OkStatus();  // "server:" with nothing under it.
  if (message.GetDescriptor()->full_name() == "google.protobuf.Struct") {
    if (!node.IsMap()) {
      return Error(at, node, StrCat("expected a mapping of settings, found ", NodeKind(node)));
    }
    google::protobuf::Value value;
    POSD_RETURN_IF_ERROR(FillValue(at, node, value));
    message.CopyFrom(value.struct_value());
    return absl::OkStatus();
  }
  if (!node.IsMap()) {
    return Error(at, node, StrCat("expected a mapping of keys, found ", NodeKind(node)));
  }
  const auto& descriptor = *message.GetDescriptor();
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    Location child_at{at.source, at.key_path.empty() ? key : StrCat(at.key_path, ".", key)};
    const FieldDescriptor* field = descriptor.FindFieldByName(key);
    if (field == nullptr) {
      return Error(child_at, entry.first, "unknown key");
    }
    if (!field->is_repeated() && message.GetReflection()->HasField(message, field)) {
      return Error(child_at, entry.first, "given twice");
    }
    if (field->is_repeated()) {
      if (entry.second.IsNull()) continue;
      if (!entry.second.IsSequence()) {
        return Error(child_at, entry.second,
                     StrCat("expected a list, found ", NodeKind(entry.second)));
      }
      for (std::size_t i = 0; i < entry.second.size(); ++i) {
        Location item_at{at.source, StrCat(child_at.key_path, "[", i, "]")};
        POSD_RETURN_IF_ERROR(SetScalar(item_at, entry.second[i], *field, message));
      }
      continue;
    }
    POSD_RETURN_IF_ERROR(SetScalar(child_at, entry.second, *field, message));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseYamlIntoMessage(std::string_view text, std::string_view source_name,
                                  Message& message) {
  message.Clear();
  YAML::Node root;
  try {
    // yaml-cpp reports syntax errors only by exception; they stop here.
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(
        StrCat(source_name, ":", error.mark.line + 1, ": not valid YAML: ", error.msg));
  }
  try {
    return FillMessage(Location{source_name, ""}, root, message);
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(
        StrCat(source_name, ":", error.mark.line + 1, ": ", error.msg));
  }
}

std::optional<int> FindKeyLine(std::string_view text, std::string_view key_path) {
  if (key_path.empty()) return std::nullopt;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    std::vector<YAML::Node> path = {root};  // yaml-cpp nodes rebind on assignment
    std::size_t at = 0;
    while (at < key_path.size()) {
      const YAML::Node& node = path.back();
      if (key_path[at] == '[') {
        const std::size_t close = key_path.find(']', at);
        if (close == std::string_view::npos || !node.IsSequence()) return std::nullopt;
        std::size_t index = 0;
        const auto [end, error] =
            std::from_chars(key_path.data() + at + 1, key_path.data() + close, index);
        if (error != std::errc() || end != key_path.data() + close || index >= node.size()) {
          return std::nullopt;
        }
        path.push_back(node[index]);
        at = close + 1;
      } else {
        if (key_path[at] == '.') ++at;
        const std::size_t end = std::min(key_path.find_first_of(".[", at), key_path.size());
        if (!node.IsMap()) return std::nullopt;
        const std::string key(key_path.substr(at, end - at));
        const YAML::Node child = node[key];
        if (!child.IsDefined()) return std::nullopt;
        path.push_back(child);
        at = end;
      }
    }
    const YAML::Mark mark = path.back().Mark();
    if (mark.is_null()) return std::nullopt;
    return mark.line + 1;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace posd::config
