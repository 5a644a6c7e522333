// Fills a protobuf message from a YAML (or JSON) document, strictly: every key
// must name a field, every value must fit the field's type. Errors name the
// key path and the line, so an operator can find the mistake at once.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace posd::config {

// Parses `text` (YAML 1.2; JSON is accepted as YAML) into `message`, which is
// cleared first. `source_name` (usually the file path) prefixes error messages.
// Keys are the fields' proto names (snake_case). Returns INVALID_ARGUMENT with
// "SOURCE:LINE: KEY.PATH: problem" on the first problem.
absl::Status ParseYamlIntoMessage(std::string_view text, std::string_view source_name,
                                  google::protobuf::Message& message);

// The line (from 1) of the value at `key_path` in `text`, the path written
// as in error messages ("devices[1].serial.baud"); nullopt when the document
// does not have that key (a default applies) or cannot be read.
std::optional<int> FindKeyLine(std::string_view text, std::string_view key_path);

}  // namespace posd::config
