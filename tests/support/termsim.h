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
// Commands: status, fault ..., power-cut, garbage N, quit, and
// `move ADDR:PORT` (WebSocket: the running terminal moves there, port 0
// picks one; answer "OK moved ADDR:PORT"; see TermsimMove).
std::string TermsimControl(const std::filesystem::path& socket, std::string_view command);

// `move ADDR:PORT` through TermsimControl: the "ADDR:PORT" the simulator
// listens at now, or INTERNAL with the simulator's answer.
absl::StatusOr<std::string> TermsimMove(const std::filesystem::path& socket,
                                        std::string_view address);

// A simulator serving WebSocket (--websocket), for tests of Wi-Fi terminals.
struct WebSocketTermsimOptions {
  std::string listen = "127.0.0.1:0";  // --websocket; port 0 picks one
  std::string device_id;               // --device-id: the terminal id it announces
  std::filesystem::path ledger;        // --ledger
  std::filesystem::path control;       // --control; empty: none
  std::string beacon;                  // --beacon IP:PORT; empty: none
  int beacon_interval_ms = 200;
  int step_ms = 20;
  std::vector<std::string> extra;  // more flags
};

// Starts `binary` with `options` (logs in `log_dir`, which must exist) and
// waits up to `timeout` for its "WEBSOCKET ADDR:PORT" line (and its control
// socket when asked for). `address` gets that ADDR:PORT ("" if it never
// came: the caller checks Running()).
Subprocess StartWebSocketTermsim(const std::string& binary, const WebSocketTermsimOptions& options,
                                 const std::filesystem::path& log_dir, std::string& address,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

// What the ledger holds about one transaction id, counted record by record
// (posd-termsim's own view keeps only the first of each), so a second
// charge of the same id would show here.
struct LedgerTally {
  int started = 0;     // Started records
  int finished = 0;    // Finished records
  int approved = 0;    // Finished records with an APPROVED result: charges
  std::string outcome;  // the first Finished record's outcome, e.g. "OUTCOME_APPROVED"
};

// The lines of `termsim_binary ledger LEDGER` (one JSON object per
// transaction, as an operator would read them) that name `transaction_id`.
// The command failing is a test failure.
std::vector<std::string> LedgerJsonLines(const std::string& termsim_binary,
                                         const std::filesystem::path& ledger,
                                         const std::string& transaction_id);

// Every transaction id in the ledger at `path`, with its tally.
absl::StatusOr<std::map<std::string, LedgerTally>> ReadLedgerTallies(
    const std::filesystem::path& path);

}  // namespace posd::testing
