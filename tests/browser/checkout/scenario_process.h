// A browser scenario (a node script driving chromium) run from a C++ test,
// with a line protocol between the two: the script prints
//   HOST <request>      and waits for one line on its stdin ("OK ..." or
//                       "ERR ..."), the C++ test's answer;
//   RESULT <key>=<value> facts the C++ test checks afterwards (e.g. which
//                       payment the UI made, to find it in the ledger);
// and anything else is its log. The script's exit code is its verdict.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace posd::testing {

struct ScenarioOutcome {
  int exit_code = -1;  // -1: killed (timeout) or not started
  std::map<std::string, std::string> results;  // RESULT lines
  std::string transcript;  // everything the script printed, for failure messages
};

// Answers one HOST request; returns the reply line ("OK ..." / "ERR ...").
using HostHandler = std::function<std::string(const std::string& request)>;

// Runs `argv` (node and its script) with `extra_env` ("NAME=value") until it
// exits or `timeout` passes (then SIGKILL), answering its HOST requests with
// `handler` on this thread. Its stderr is folded into the transcript.
ScenarioOutcome RunScenario(const std::vector<std::string>& argv,
                            const std::vector<std::string>& extra_env,
                            const HostHandler& handler, std::chrono::milliseconds timeout);

}  // namespace posd::testing
