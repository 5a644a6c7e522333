#include "service/hooks/plugin_settings.h"

#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "service/common/status_macros.h"
#include "service/common/strings.h"

namespace posd::hooks {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Struct;
using google::protobuf::Value;

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : StrCat(path, ".", key);
}

bool IsWellKnown(const Descriptor& descriptor) {
  // Timestamps, durations, wrappers and Struct have their own JSON forms
  // (strings, numbers, free objects): the JSON parser checks them.
  return descriptor.file()->package() == "google.protobuf";
}

absl::Status CheckKeys(std::string_view plugin, const Descriptor& descriptor,
                       const Struct& settings, const std::string& path);

// The protobuf JSON parser would also refuse unknown keys, but its message
// does not say which key; a person fixing a config file needs the path.
absl::Status CheckValue(std::string_view plugin, const FieldDescriptor& field, const Value& value,
                        const std::string& path) {
  if (field.type() != FieldDescriptor::TYPE_MESSAGE || IsWellKnown(*field.message_type())) {
    return absl::OkStatus();
  }
  if (field.is_map()) {
    const FieldDescriptor* map_value = field.message_type()->map_value();
    if (value.kind_case() != Value::kStructValue) return absl::OkStatus();  // the parser says why
    for (const auto& [key, item] : value.struct_value().fields()) {
      POSD_RETURN_IF_ERROR(CheckValue(plugin, *map_value, item, StrCat(path, "[", key, "]")));
    }
    return absl::OkStatus();
  }
  if (field.is_repeated()) {
    if (value.kind_case() != Value::kListValue) return absl::OkStatus();
    for (int i = 0; i < value.list_value().values_size(); ++i) {
      const Value& item = value.list_value().values(i);
      if (item.kind_case() == Value::kStructValue) {
        POSD_RETURN_IF_ERROR(CheckKeys(plugin, *field.message_type(), item.struct_value(),
                                       StrCat(path, "[", i, "]")));
      }
    }
    return absl::OkStatus();
  }
  if (value.kind_case() == Value::kStructValue) {
    return CheckKeys(plugin, *field.message_type(), value.struct_value(), path);
  }
  return absl::OkStatus();
}

absl::Status CheckKeys(std::string_view plugin, const Descriptor& descriptor,
                       const Struct& settings, const std::string& path) {
  for (const auto& [key, value] : settings.fields()) {
    const FieldDescriptor* field = descriptor.FindFieldByName(key);
    for (int i = 0; field == nullptr && i < descriptor.field_count(); ++i) {
      if (descriptor.field(i)->json_name() == key) field = descriptor.field(i);
    }
    const std::string key_path = Join(path, key);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("plugin \"", plugin, "\": unknown setting \"", key_path, "\""));
    }
    POSD_RETURN_IF_ERROR(CheckValue(plugin, *field, value, key_path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParsePluginSettings(std::string_view plugin, const Struct& settings,
                                 google::protobuf::Message* out) {
  out->Clear();
  POSD_RETURN_IF_ERROR(CheckKeys(plugin, *out->GetDescriptor(), settings, ""));
  std::string json;
  auto printed = google::protobuf::util::MessageToJsonString(settings, &json);
  if (!printed.ok()) {
    return absl::InvalidArgumentError(
        StrCat("plugin \"", plugin, "\": settings cannot be read: ", printed.ToString()));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, out, options);
  if (!parsed.ok()) {
    out->Clear();
    return absl::InvalidArgumentError(StrCat("plugin \"", plugin, "\": bad setting: ",
                                             std::string(parsed.message())));
  }
  return absl::OkStatus();
}

std::string PluginSettingsToJson(const Struct& settings) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(settings, &json).ok()) return "{}";
  return json.empty() ? "{}" : json;
}

}  // namespace posd::hooks
