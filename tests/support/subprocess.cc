#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

extern char** environ;

namespace posd::testing {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

pid_t Spawn(const std::vector<std::string>& argv, const std::filesystem::path& out,
            const std::filesystem::path& err, const std::vector<std::string>& extra_env) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // An extra entry replaces the inherited one of the same name: getenv()
  // would find the inherited one first.
  auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=') + 1); };
  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view inherited(*entry);
    bool replaced = false;
    for (const auto& extra : extra_env) replaced = replaced || name_of(extra) == name_of(inherited);
    if (!replaced) env_storage.emplace_back(inherited);
  }
  for (const auto& entry : extra_env) env_storage.push_back(entry);
  std::vector<char*> env;
  for (auto& entry : env_storage) env.push_back(entry.data());
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child gets default signal dispositions and an empty mask, whatever
  // the test runner set.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::system_error(error, std::generic_category(), "posix_spawn " + argv[0]);
  return pid;
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

std::filesystem::path UniqueLogPath(const std::filesystem::path& dir, const std::string& stem,
                                    const char* suffix) {
  static std::atomic<int> counter{0};
  return dir / (stem + "." + std::to_string(getpid()) + "." + std::to_string(counter++) + suffix);
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& extra_env) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto out = UniqueLogPath(dir, "posd-test-cmd", ".out");
  const auto err = UniqueLogPath(dir, "posd-test-cmd", ".err");
  CommandResult result;
  {
    const pid_t pid = Spawn(argv, out, err, extra_env);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (true) {
      const pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid) {
        result.exit_code = DecodeWaitStatus(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        result.exit_code = -1;
        break;
      }
      struct timespec pause {0, 2'000'000};
      nanosleep(&pause, nullptr);
    }
  }
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  std::error_code ignored;
  std::filesystem::remove(out, ignored);
  std::filesystem::remove(err, ignored);
  return result;
}

Subprocess Subprocess::Start(const std::vector<std::string>& argv,
                             const std::filesystem::path& log_dir,
                             const std::vector<std::string>& extra_env) {
  const std::string stem = std::filesystem::path(argv.at(0)).filename().string();
  auto out = UniqueLogPath(log_dir, stem, ".out");
  auto err = UniqueLogPath(log_dir, stem, ".err");
  const pid_t pid = Spawn(argv, out, err, extra_env);
  return Subprocess(pid, std::move(out), std::move(err));
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(other.pid_),
      exit_code_(other.exit_code_),
      out_path_(std::move(other.out_path_)),
      err_path_(std::move(other.err_path_)) {
  other.pid_ = -1;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exit_code_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void Subprocess::Signal(int signal_number) const {
  if (pid_ > 0 && !exit_code_) kill(pid_, signal_number);
}

std::optional<int> Subprocess::WaitForExit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  WaitUntil(
      [this] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) exit_code_ = DecodeWaitStatus(status);
        return exit_code_.has_value();
      },
      timeout);
  return exit_code_;
}

bool Subprocess::Running() { return !WaitForExit(std::chrono::milliseconds(0)).has_value(); }

std::string Subprocess::Stdout() const { return ReadFile(out_path_); }
std::string Subprocess::Stderr() const { return ReadFile(err_path_); }

}  // namespace posd::testing
