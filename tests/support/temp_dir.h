// A private temporary folder per test, removed with everything in it when the
// TempDir goes out of scope.
#pragma once

#include <filesystem>
#include <string>

namespace posd::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A path inside the folder (the file is not created).
  std::filesystem::path File(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace posd::testing
