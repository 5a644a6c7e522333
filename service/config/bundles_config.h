// Validation and defaults of the `bundles:` section (webview bundle releases).
#pragma once

#include "absl/status/status.h"
#include "posd/config/v1/config.pb.h"

namespace posd::config {

// Default folder of the installed webview bundles.
inline constexpr char kDefaultBundlesDir[] = "/var/lib/posd/bundles";
// Prefix of a trusted publisher key given inline (32 raw bytes in base64)
// rather than as the path of a PEM file.
inline constexpr char kInlineEd25519KeyPrefix[] = "ed25519:";

// Fills in the defaults of `bundles` and checks ranges and formats;
// INVALID_ARGUMENT naming the key ("bundles.ready_timeout_ms: ...") on the
// first problem. Key files are only named here; they are read at start.
absl::Status ValidateBundles(v1::Bundles& bundles);

}  // namespace posd::config
