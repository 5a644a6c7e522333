// A small tmpfs of the test's own, for full-disk and read-only faults. It is
// mounted in a private mount namespace that the test process enters once
// (EnterPrivateMountNamespace), so filling it or making it read-only
// touches nothing outside the process; the namespace ends with the process.
// Needs root.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posd::testing {

// Moves this process into a mount namespace of its own with every mount
// private (nothing propagates back to the machine). Call once, before any
// thread that must see the same mounts starts (SetUpTestSuite). Empty when
// done, otherwise why not (not root, unshare refused) for GTEST_SKIP.
std::string EnterPrivateMountNamespace();

class TinyFilesystem {
 public:
  // Mounts a tmpfs with `options` ("size=1m,mode=0700") on `mount_point`
  // (created if missing).
  static absl::StatusOr<std::unique_ptr<TinyFilesystem>> Mount(
      const std::filesystem::path& mount_point, std::string options);
  // Unmounts (lazily, so open files do not keep it busy).
  ~TinyFilesystem();
  TinyFilesystem(const TinyFilesystem&) = delete;
  TinyFilesystem& operator=(const TinyFilesystem&) = delete;

  const std::filesystem::path& root() const { return root_; }

  // Makes the file system read-only or writable again, files kept.
  absl::Status SetReadOnly(bool read_only);
  // Writes a filler file until the file system refuses another byte.
  absl::Status Fill();
  // Removes the filler.
  void Free();

 private:
  TinyFilesystem(std::filesystem::path root, std::string options)
      : root_(std::move(root)), options_(std::move(options)) {}

  std::filesystem::path root_;
  std::string options_;
};

}  // namespace posd::testing
