#include "service/config/bundles_config.h"

#include <string>

#include "absl/strings/escaping.h"
#include "service/common/strings.h"

namespace posd::config {
namespace {

absl::Status KeyError(std::string_view key, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat("bundles.", key, ": ", problem));
}

absl::Status ValidateTrustedKey(const std::string& entry, int index) {
  const std::string key = StrCat("trusted_publisher_keys[", index, "]");
  if (entry.empty()) return KeyError(key, "is empty (a PEM file path or \"ed25519:BASE64\")");
  const std::string_view prefix = kInlineEd25519KeyPrefix;
  if (entry.compare(0, prefix.size(), prefix) != 0) return absl::OkStatus();
  std::string raw;
  if (!absl::Base64Unescape(entry.substr(prefix.size()), &raw) || raw.size() != 32) {
    return KeyError(key, "an inline key must be \"ed25519:\" and 32 bytes in base64");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateBundles(v1::Bundles& bundles) {
  if (!bundles.has_dir()) bundles.set_dir(kDefaultBundlesDir);
  if (bundles.dir().empty()) return KeyError("dir", "must not be empty");
  for (int i = 0; i < bundles.trusted_publisher_keys_size(); ++i) {
    if (absl::Status valid = ValidateTrustedKey(bundles.trusted_publisher_keys(i), i); !valid.ok()) {
      return valid;
    }
  }
  if (!bundles.has_ready_timeout_ms()) bundles.set_ready_timeout_ms(60000);
  if (bundles.ready_timeout_ms() < 1000 || bundles.ready_timeout_ms() > 3'600'000) {
    return KeyError("ready_timeout_ms",
                    StrCat(bundles.ready_timeout_ms(), " is outside 1000 to 3600000"));
  }
  if (!bundles.has_keep_releases()) bundles.set_keep_releases(3);
  if (bundles.keep_releases() < 2 || bundles.keep_releases() > 20) {
    return KeyError("keep_releases", StrCat(bundles.keep_releases(), " is outside 2 to 20"));
  }
  if (bundles.has_https_ca_file() && bundles.https_ca_file().empty()) {
    return KeyError("https_ca_file", "must not be empty when given");
  }
  if (!bundles.has_max_release_bytes()) bundles.set_max_release_bytes(256ull << 20);
  if (bundles.max_release_bytes() < 1024 || bundles.max_release_bytes() > (4ull << 30)) {
    return KeyError("max_release_bytes",
                    StrCat(bundles.max_release_bytes(), " is outside 1024 to 4294967296"));
  }
  return absl::OkStatus();
}

}  // namespace posd::config
