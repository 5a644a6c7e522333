#include "service/discovery/txt_record.h"

#include <cctype>
#include <set>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "service/common/strings.h"

namespace posd::discovery {
namespace {

bool ValidTerminalId(std::string_view id) {
  if (id.empty() || id.size() > 63 || id[0] < 'a' || id[0] > 'z') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool ValidPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  for (char c : path) {
    if (c <= 0x20 || c > 0x7e) return false;
  }
  return true;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("TXT record: ", what));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> FormatTerminalTxt(const TerminalTxt& txt) {
  if (!ValidTerminalId(txt.terminal_id)) {
    return Bad(StrCat("id '", txt.terminal_id, "' is not a terminal id"));
  }
  if (txt.protocol_version == 0) return Bad("proto must be >= 1");
  // A TXT entry holds at most 255 bytes; "path=" takes 5 of them.
  if (!ValidPath(txt.path) || txt.path.size() > 250) {
    return Bad(StrCat("path '", txt.path, "' must start with '/', be printable, have no spaces "
                      "and at most 250 bytes"));
  }
  return std::vector<std::string>{StrCat("id=", txt.terminal_id),
                                  StrCat("proto=", txt.protocol_version),
                                  StrCat("path=", txt.path), StrCat("tls=", txt.tls ? 1 : 0)};
}

absl::StatusOr<TerminalTxt> ParseTerminalTxt(const std::vector<std::string>& entries) {
  TerminalTxt txt;
  bool have_id = false;
  bool have_proto = false;
  std::set<std::string> seen;
  for (const std::string& entry : entries) {
    const size_t eq = entry.find('=');
    // An entry without '=' is a boolean attribute (RFC 6763 6.4): none of ours.
    if (eq == std::string::npos || eq == 0) continue;
    const std::string key = absl::AsciiStrToLower(entry.substr(0, eq));
    const std::string_view value = std::string_view(entry).substr(eq + 1);
    if (!seen.insert(key).second) continue;
    if (key == "id") {
      if (!ValidTerminalId(value)) return Bad(StrCat("id '", value, "' is not a terminal id"));
      txt.terminal_id = std::string(value);
      have_id = true;
    } else if (key == "proto") {
      uint32_t version = 0;
      if (!absl::SimpleAtoi(ToAbsl(value), &version) || version == 0) {
        return Bad(StrCat("proto '", value, "' is not a version >= 1"));
      }
      txt.protocol_version = version;
      have_proto = true;
    } else if (key == "path") {
      if (!ValidPath(value)) {
        return Bad(StrCat("path '", value, "' must start with '/', be printable, no spaces"));
      }
      txt.path = std::string(value);
    } else if (key == "tls") {
      if (value != "0" && value != "1") return Bad(StrCat("tls '", value, "' must be 0 or 1"));
      txt.tls = value == "1";
    }
    // Other keys: from a newer terminal; ignored.
  }
  if (!have_id) return Bad("id is missing");
  if (!have_proto) return Bad("proto is missing");
  return txt;
}

}  // namespace posd::discovery
