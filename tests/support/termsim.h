// The terminal simulator (posd-termsim) as tests use it: started as a real
// process on a pseudo-terminal, switched through its control socket, and its
// durable ledger read as the ground truth of what was charged.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"

namespace posd::testing {

struct TermsimOptions {
  std::filesystem::path link;     // --pty --link: stable name of the slave side
  std::filesystem::path ledger;   // --ledger
  std::filesystem::path control;  // --control; empty: none
  int step_ms = 20;               // time per transaction stage
  int power_off_ms = 300;         // dark time after a power loss
  int slow_ms = 10000;            // extra processing for amounts ending in 53
  std::vector<std::string> faults;  // --fault SPEC each
};

// Starts `binary` with `options` (logs in `log_dir`, which must exist) and
// waits up to `timeout` until its line, and its control socket when asked
// for, exist. A stale link or control socket from an earlier run is removed
// first, so the wait sees this run's. The caller checks Running().
Subprocess StartTermsim(const std::string& binary, const TermsimOptions& options,
                        const std::filesystem::path& log_dir,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Sends one command line to the simulator's control socket and returns its
// one-line answer ("OK ..." or "ERR ..."); "ERR connect" when nobody listens.
std::string TermsimControl(const std::filesystem::path& socket, std::string_view command);

// What the ledger holds about one transaction id, counted record by record
// (posd-termsim's own view keeps only the first of each), so a second
// charge of the same id would show here.
struct LedgerTally {
  int started = 0;     // Started records
  int finished = 0;    // Finished records
  int approved = 0;    // Finished records with an APPROVED result: charges
  std::string outcome;  // the first Finished record's outcome, e.g. "OUTCOME_APPROVED"
};

// Every transaction id in the ledger at `path`, with its tally.
absl::StatusOr<std::map<std::string, LedgerTally>> ReadLedgerTallies(
    const std::filesystem::path& path);

}  // namespace posd::testing
