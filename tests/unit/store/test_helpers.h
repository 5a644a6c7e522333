// Helpers shared by the store tests: file bytes, a StatusOr value matcher,
// and a way to make permission checks apply to root.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace posd::store::testing {

// EXPECT_THAT(db.QueryInt64("PRAGMA user_version"), IsOkAndHolds(2));
MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

inline std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteBytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void OverwriteAt(const std::filesystem::path& path, std::streamoff offset,
                        std::string_view bytes) {
  std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
  out.seekp(offset);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Root ignores file permissions (CAP_DAC_OVERRIDE), so a chmod alone cannot
// make a file unwritable for a test running as root. This drops the
// capability from the calling thread's effective set for its lifetime and
// restores it afterwards; as an ordinary user it changes nothing.
class ScopedWithoutDacOverride {
 public:
  ScopedWithoutDacOverride() {
    header_.version = _LINUX_CAPABILITY_VERSION_3;
    header_.pid = 0;
    if (syscall(SYS_capget, &header_, saved_) != 0) return;
    __user_cap_data_struct reduced[2] = {saved_[0], saved_[1]};
    reduced[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    active_ = syscall(SYS_capset, &header_, reduced) == 0;
  }
  ~ScopedWithoutDacOverride() {
    if (active_) syscall(SYS_capset, &header_, saved_);
  }
  ScopedWithoutDacOverride(const ScopedWithoutDacOverride&) = delete;
  ScopedWithoutDacOverride& operator=(const ScopedWithoutDacOverride&) = delete;

 private:
  __user_cap_header_struct header_{};
  __user_cap_data_struct saved_[2]{};
  bool active_ = false;
};

}  // namespace posd::store::testing
