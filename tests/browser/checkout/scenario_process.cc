#include "tests/browser/checkout/scenario_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>

extern char** environ;

namespace posd::testing {
namespace {

// Both ends of a pipe, closed when it goes out of scope.
struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void CloseRead() {
    if (read_end >= 0) close(read_end);
    read_end = -1;
  }
  void CloseWrite() {
    if (write_end >= 0) close(write_end);
    write_end = -1;
  }
};

std::vector<std::string> Environment(const std::vector<std::string>& extra_env) {
  auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=') + 1); };
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view inherited(*entry);
    bool replaced = false;
    for (const auto& extra : extra_env) replaced = replaced || name_of(extra) == name_of(inherited);
    if (!replaced) env.emplace_back(inherited);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return env;
}

pid_t SpawnWithPipes(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                     Pipe& to_child, Pipe& from_child) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_storage = Environment(extra_env);
  std::vector<char*> env;
  for (auto& entry : env_storage) env.push_back(entry.data());
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child.read_end, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child.write_end, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child.write_end, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  // Its own process group, so a timeout kills chromium with it.
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::system_error(error, std::generic_category(), "posix_spawn " + argv[0]);
  return pid;
}

bool WriteLine(int fd, const std::string& line) {
  std::string data = line + "\n";
  std::string_view rest(data);
  while (!rest.empty()) {
    const ssize_t written = write(fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    rest.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace

ScenarioOutcome RunScenario(const std::vector<std::string>& argv,
                            const std::vector<std::string>& extra_env,
                            const HostHandler& handler, std::chrono::milliseconds timeout) {
  ScenarioOutcome outcome;
  Pipe to_child;
  Pipe from_child;
  const pid_t pid = SpawnWithPipes(argv, extra_env, to_child, from_child);
  to_child.CloseRead();
  from_child.CloseWrite();

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string pending;
  bool timed_out = false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd watched{from_child.read_end, POLLIN, 0};
    const int ready = poll(&watched, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t got = read(from_child.read_end, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the script (and everything it started) closed its output
    pending.append(buffer, static_cast<size_t>(got));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      outcome.transcript += line + "\n";
      if (line.rfind("HOST ", 0) == 0) {
        const std::string reply = handler(line.substr(5));
        outcome.transcript += "  -> " + reply + "\n";
        WriteLine(to_child.write_end, reply);
      } else if (line.rfind("RESULT ", 0) == 0) {
        const std::string fact = line.substr(7);
        const size_t equals = fact.find('=');
        if (equals != std::string::npos) outcome.results[fact.substr(0, equals)] = fact.substr(equals + 1);
      }
    }
  }
  outcome.transcript += pending;
  if (timed_out) {
    kill(-pid, SIGKILL);
    outcome.transcript += "\n[scenario timed out and was killed]\n";
  }
  to_child.CloseWrite();
  int status = 0;
  waitpid(pid, &status, 0);
  // Whatever the script left behind in its group (a chromium that outlived
  // a crashed script) goes too.
  kill(-pid, SIGKILL);
  if (!timed_out && WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

}  // namespace posd::testing
