// Serves webview bundles as static files: /ui/<name>/<path> from
// <bundles_dir>/<name>/current/<path>, where `current` is the symlink the
// bundle installer switches (service/bundles). No HTTP library here.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/http/grpc_web_framing.h"

namespace posd::http {

struct StaticFile {
  std::string body;
  std::string content_type;
  std::string etag;           // strong: "\"sha256-prefix\"" of the content
  std::string cache_control;  // immutable for content-hashed names, no-cache otherwise
};

// Thread-safe. Every file is read afresh per request (a release may switch
// between two requests); only ETags are remembered, keyed by real path,
// size, modification time and inode, since a release's files never change
// in place.
class BundleHost {
 public:
  explicit BundleHost(std::string bundles_dir) : bundles_dir_(std::move(bundles_dir)) {}

  // `bundle` is the name after /ui/, `path` the percent-encoded rest after
  // "/ui/<name>/" (query removed; "" means the entry page index.html).
  // INVALID_ARGUMENT: a path that is malformed or tries to leave the
  // release (.., encoded or double-encoded, NUL, backslash, empty segment).
  // NOT_FOUND: no such bundle, no active release, no such file.
  // PERMISSION_DENIED: the file's real path leaves the release folder (a
  // symlink pointing out), or it is not a regular file.
  absl::StatusOr<StaticFile> Get(std::string_view bundle, std::string_view path);

  // The Content-Security-Policy sent with every bundle file: everything
  // from posd itself only, no other origin can be connected to.
  static std::string_view ContentSecurityPolicy();

  // True when the file name carries a content hash (esbuild's
  // "name-HASH.ext" / "name.HASH.ext": 8 or more letters and digits, at
  // least one of them a digit), so the file at that URL never changes.
  static bool IsContentHashedName(std::string_view file_name);

  static std::string_view ContentTypeFor(std::string_view file_name);

  // Decodes %XX once. INVALID_ARGUMENT on a bad escape, an escaped '/', or a
  // result that still contains '%' (double encoding), NUL or a backslash.
  static absl::StatusOr<std::string> DecodePath(std::string_view encoded);

 private:
  std::string EtagFor(const std::string& real_path, std::string_view content, uint64_t size,
                      int64_t mtime_ns, uint64_t inode);

  const std::string bundles_dir_;
  std::mutex mutex_;
  std::map<std::string, std::string> etags_;  // GUARDED_BY(mutex_)
};

}  // namespace posd::http
