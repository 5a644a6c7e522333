// Turns a plugin's free-form settings (a google.protobuf.Struct from the
// configuration file) into the plugin's typed settings message, strictly.
//
// Every plugin declares its settings as a protobuf message in its own folder
// (e.g. plugins/discount/discount_settings.proto). Keys are the fields' proto
// names (snake_case) or their JSON names; an unknown key anywhere (also in
// nested messages and lists of messages) or a value of the wrong type is
// INVALID_ARGUMENT naming the plugin and the key's path, e.g.
//   plugin "discount": unknown setting "coupons[1].percnt"
// Semantic checks (ranges, required fields) are the plugin's, in its factory.
//
// Thread safety: pure function.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"

namespace posd::hooks {

// Clears `*out` and fills it from `settings`.
absl::Status ParsePluginSettings(std::string_view plugin, const google::protobuf::Struct& settings,
                                 google::protobuf::Message* out);

// The settings as one line of JSON (for PluginService and logs).
std::string PluginSettingsToJson(const google::protobuf::Struct& settings);

}  // namespace posd::hooks
