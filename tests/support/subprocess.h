// Starting the project's real binaries from tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace posd::testing {

// What a finished command printed and how it ended.
struct CommandResult {
  int exit_code = -1;  // -1 when it was killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` to completion (at most `timeout`, then SIGKILL) with extra
// environment entries ("NAME=value", replacing an inherited NAME) and returns
// its output and exit code.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30),
                         const std::vector<std::string>& extra_env = {});

// A child process the test started. Its standard output and error go to
// files in `log_dir`, so a failing test can show them. The destructor kills
// the process (SIGKILL) and reaps it if the test has not stopped it.
// `extra_env` entries replace inherited ones of the same name.
class Subprocess {
 public:
  static Subprocess Start(const std::vector<std::string>& argv,
                          const std::filesystem::path& log_dir,
                          const std::vector<std::string>& extra_env = {});
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  Subprocess(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // Sends `signal_number` to this process only.
  void Signal(int signal_number) const;
  // Waits up to `timeout` for the process to exit; its exit code, -1 when a
  // signal ended it, or nullopt when it is still running.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout);
  // True while the process has not exited.
  bool Running();

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  Subprocess(pid_t pid, std::filesystem::path out, std::filesystem::path err)
      : pid_(pid), out_path_(std::move(out)), err_path_(std::move(err)) {}

  pid_t pid_;
  std::optional<int> exit_code_;
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
};

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
template <typename Condition>
bool WaitUntil(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    struct timespec pause {0, 5'000'000};
    nanosleep(&pause, nullptr);
  }
  return condition();
}

}  // namespace posd::testing
