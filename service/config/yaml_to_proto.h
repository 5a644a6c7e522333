// Fills a protobuf message from a YAML (or JSON) document, strictly: every key
// must name a field, every value must fit the field's type. Errors name the
// key path and the line, so an operator can find the mistake at once.
#pragma once

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

}  // namespace posd::config
