#include "service/http/bundle_host.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "service/common/strings.h"
#include "service/crypto/ed25519.h"

namespace posd::http {
namespace {

// Files larger than this are not served (a bundle is screens, not media).
constexpr off_t kMaxFileBytes = 64 << 20;
constexpr std::size_t kMaxRememberedEtags = 4096;

bool IsBundleNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return absl::NotFoundError(StrCat("no such file: ", path));
  }
  return std::string(resolved);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view BundleHost::ContentSecurityPolicy() {
  return "default-src 'self'; connect-src 'self'; script-src 'self'; worker-src 'self'; "
         "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
         "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";
}

bool BundleHost::IsContentHashedName(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const std::string_view stem = name.substr(0, dot);
  const auto separator = stem.find_last_of("-.");
  if (separator == std::string_view::npos) return false;
  const std::string_view hash = stem.substr(separator + 1);
  if (hash.size() < 8) return false;
  bool digit = false;
  for (char c : hash) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) return false;
    digit = digit || (c >= '0' && c <= '9');
  }
  return digit;
}

std::string_view BundleHost::ContentTypeFor(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (name.size() > extension.size() && name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

absl::StatusOr<std::string> BundleHost::DecodePath(std::string_view encoded) {
  std::string decoded;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      if (i + 2 >= encoded.size() || HexValue(encoded[i + 1]) < 0 || HexValue(encoded[i + 2]) < 0) {
        return absl::InvalidArgumentError("bad percent escape in the path");
      }
      c = static_cast<char>(HexValue(encoded[i + 1]) * 16 + HexValue(encoded[i + 2]));
      if (c == '/') return absl::InvalidArgumentError("an escaped '/' in the path");
      i += 2;
    }
    if (c == '%') return absl::InvalidArgumentError("a double-encoded path");
    if (c == '\0') return absl::InvalidArgumentError("a NUL byte in the path");
    if (c == '\\') return absl::InvalidArgumentError("a backslash in the path");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("a control character in the path");
    }
    decoded.push_back(c);
  }
  return decoded;
}

absl::StatusOr<StaticFile> BundleHost::Get(std::string_view bundle, std::string_view path) {
  if (bundle.empty() || bundle.size() > 64) return absl::NotFoundError("no such bundle");
  for (char c : bundle) {
    if (!IsBundleNameChar(c)) return absl::InvalidArgumentError("bad bundle name");
  }
  auto relative = DecodePath(path);
  if (!relative.ok()) return relative.status();
  if (relative->empty()) *relative = "index.html";
  // Every segment must be a plain name: no "", ".", "..".
  std::string_view rest = *relative;
  while (true) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") {
      return absl::InvalidArgumentError("the path has an empty, '.' or '..' segment");
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  // `current` is resolved once, here; everything below is checked against
  // the release folder it named at this moment.
  const std::string bundle_dir = StrCat(bundles_dir_, "/", bundle);
  auto bundle_real = RealPath(bundle_dir);
  if (!bundle_real.ok()) return absl::NotFoundError(StrCat("no bundle named ", bundle));
  auto release = RealPath(StrCat(bundle_dir, "/current"));
  if (!release.ok()) return absl::NotFoundError(StrCat("bundle ", bundle, " has no active release"));
  if (!release->starts_with(*bundle_real + "/")) {
    return absl::PermissionDeniedError(StrCat("bundle ", bundle, "'s current release is outside it"));
  }
  auto file = RealPath(StrCat(*release, "/", *relative));
  if (!file.ok()) return absl::NotFoundError(StrCat("no file ", *relative, " in bundle ", bundle));
  if (!file->starts_with(*release + "/")) {
    return absl::PermissionDeniedError(StrCat(*relative, " leaves the release folder"));
  }
  // O_NOFOLLOW: the real path is final; a symlink swapped in since is refused.
  const int fd = ::open(file->c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(StrCat("cannot open ", *relative));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::PermissionDeniedError(StrCat(*relative, " is not a regular file"));
  }
  if (info.st_size > kMaxFileBytes) {
    ::close(fd);
    return absl::PermissionDeniedError(StrCat(*relative, " is larger than a bundle file may be"));
  }
  StaticFile result;
  result.body.resize(static_cast<std::size_t>(info.st_size));
  std::size_t done = 0;
  while (done < result.body.size()) {
    const ssize_t n = ::read(fd, result.body.data() + done, result.body.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  result.body.resize(done);
  const std::string_view name = std::string_view(*relative).substr(relative->rfind('/') + 1);
  result.content_type = std::string(ContentTypeFor(name));
  result.cache_control = IsContentHashedName(name) ? "public, max-age=31536000, immutable"
                                                   : "no-cache";
  result.etag = EtagFor(*file, result.body, static_cast<uint64_t>(info.st_size),
                        static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
                        static_cast<uint64_t>(info.st_ino));
  return result;
}

std::string BundleHost::EtagFor(const std::string& real_path, std::string_view content,
                                uint64_t size, int64_t mtime_ns, uint64_t inode) {
  const std::string key = StrCat(real_path, "|", size, "|", mtime_ns, "|", inode);
  {
    const std::lock_guard lock(mutex_);
    if (auto found = etags_.find(key); found != etags_.end()) return found->second;
  }
  std::string etag = StrCat("\"", crypto::HexEncode(crypto::Sha256(content)).substr(0, 32), "\"");
  const std::lock_guard lock(mutex_);
  if (etags_.size() >= kMaxRememberedEtags) etags_.clear();
  etags_.emplace(key, etag);
  return etag;
}

}  // namespace posd::http
