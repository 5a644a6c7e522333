#include "tests/support/termsim.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "gtest/gtest.h"

#include "service/channel/result_ledger.h"

namespace posd::testing {

Subprocess StartTermsim(const std::string& binary, const TermsimOptions& options,
                        const std::filesystem::path& log_dir, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {binary,
                                   "--pty",
                                   "--link",
                                   options.link.string(),
                                   "--ledger",
                                   options.ledger.string(),
                                   "--step-ms",
                                   std::to_string(options.step_ms),
                                   "--power-off-ms",
                                   std::to_string(options.power_off_ms),
                                   "--slow-ms",
                                   std::to_string(options.slow_ms)};
  if (!options.control.empty()) {
    argv.push_back("--control");
    argv.push_back(options.control.string());
  }
  for (const auto& fault : options.faults) {
    argv.push_back("--fault");
    argv.push_back(fault);
  }
  std::error_code ignored;
  std::filesystem::remove(options.link, ignored);
  if (!options.control.empty()) std::filesystem::remove(options.control, ignored);
  Subprocess sim = Subprocess::Start(argv, log_dir);
  WaitUntil(
      [&] {
        return !sim.Running() ||
               (std::filesystem::exists(options.link) &&
                (options.control.empty() || std::filesystem::exists(options.control)));
      },
      timeout);
  return sim;
}

absl::StatusOr<std::string> TermsimMove(const std::filesystem::path& socket,
                                        std::string_view address) {
  const std::string answer = TermsimControl(socket, "move " + std::string(address));
  constexpr std::string_view kOk = "OK moved ";
  if (answer.rfind(kOk, 0) != 0) return absl::InternalError(answer);
  std::string moved = answer.substr(kOk.size());
  while (!moved.empty() && (moved.back() == '\n' || moved.back() == '\r')) moved.pop_back();
  return moved;
}

Subprocess StartWebSocketTermsim(const std::string& binary, const WebSocketTermsimOptions& options,
                                 const std::filesystem::path& log_dir, std::string& address,
                                 std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {binary,      "--websocket",          options.listen,
                                   "--device-id", options.device_id,    "--ledger",
                                   options.ledger.string(), "--step-ms", std::to_string(options.step_ms)};
  if (!options.control.empty()) {
    argv.push_back("--control");
    argv.push_back(options.control.string());
  }
  if (!options.beacon.empty()) {
    argv.push_back("--beacon");
    argv.push_back(options.beacon);
    argv.push_back("--beacon-interval-ms");
    argv.push_back(std::to_string(options.beacon_interval_ms));
  }
  argv.insert(argv.end(), options.extra.begin(), options.extra.end());
  std::error_code ignored;
  if (!options.control.empty()) std::filesystem::remove(options.control, ignored);
  Subprocess sim = Subprocess::Start(argv, log_dir);
  address.clear();
  WaitUntil(
      [&] {
        if (!sim.Running()) return true;
        const std::string out = sim.Stdout();
        const size_t at = out.find("WEBSOCKET ");
        const size_t end = at == std::string::npos ? at : out.find('\n', at);
        if (end == std::string::npos) return false;
        address = out.substr(at + 10, end - at - 10);
        return options.control.empty() || std::filesystem::exists(options.control);
      },
      timeout);
  return sim;
}

std::string TermsimControl(const std::filesystem::path& socket, std::string_view command) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "ERR socket";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return "ERR connect";
  }
  const std::string request = std::string(command) + "\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "ERR write";
  }
  std::string answer;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') answer.push_back(c);
  ::close(fd);
  return answer;
}

absl::StatusOr<std::map<std::string, LedgerTally>> ReadLedgerTallies(
    const std::filesystem::path& path) {
  auto records = channel::ResultLedger::ReadRecords(path);
  if (!records.ok()) return records.status();
  std::map<std::string, LedgerTally> tallies;
  for (const auto& record : *records) {
    if (record.has_started()) {
      ++tallies[record.started().transaction_id()].started;
    } else if (record.has_finished()) {
      const auto& result = record.finished().result();
      LedgerTally& tally = tallies[result.transaction_id()];
      if (tally.finished++ == 0) tally.outcome = link::v1::Outcome_Name(result.outcome());
      if (result.outcome() == link::v1::OUTCOME_APPROVED) ++tally.approved;
    }
  }
  return tallies;
}

std::vector<std::string> LedgerJsonLines(const std::string& termsim_binary,
                                         const std::filesystem::path& ledger,
                                         const std::string& transaction_id) {
  const CommandResult printed = RunCommand({termsim_binary, "ledger", ledger.string()});
  EXPECT_EQ(printed.exit_code, 0) << printed.err;
  std::vector<std::string> lines;
  std::istringstream in(printed.out);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"" + transaction_id + "\"") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

}  // namespace posd::testing
