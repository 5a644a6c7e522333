// Paths as posd logs and reports them.
#pragma once

#include <filesystem>
#include <string>

namespace posd {

// `path` made absolute against the working folder and normalised, for logs,
// ServerInfo and device ports; `path` itself when that fails.
inline std::string AbsolutePath(const std::string& path) {
  std::error_code ignored;
  const auto absolute = std::filesystem::absolute(path, ignored);
  return absolute.empty() ? path : absolute.lexically_normal().string();
}

}  // namespace posd
