// bench_payments: what a payment costs in posd, from one run.
//
//  engine  Durable payment transitions per second through the engine: many
//          CreatePayment commands in flight (--engine-inflight) so that group
//          commit can act, a terminal that answers at once (one progress
//          report and an approval per sale), the store on a real file in
//          --dir. Each payment is three committed transitions: DISPATCHED,
//          AUTHORIZING, APPROVED. Beside it, bare SQLite on a file in the
//          same folder: one single-row INSERT per transaction, WAL,
//          synchronous=FULL (posd's settings), half before and half after
//          the engine run so both see the same disk.
//  posd    posd and one posd-termsim per client as real processes (terminal
//          i is device counter-i). For each client count, every client
//          (its own gRPC channel) takes payments on its own terminal, one
//          after the other: CreatePayment over posd's Unix socket (timed),
//          then waits for APPROVED on an event stream. CreatePayment returns
//          once DISPATCHED is committed, so its latency is the API plus one
//          group commit. e2e is approved payments per second of wall time
//          over all clients. echo is a bare unary gRPC call to an echo
//          service hosted in this process on a Unix socket, with the same
//          number of clients and a payload the size of a CreatePayment.
//
// Output: a table, then machine-readable lines:
//   engine transitions_per_s=... sqlite_single_commits_per_s=... ratio=...
//   engine_groups transactions=... commands=... mean_group=... largest_group=...
//   createpayment clients=8 p50_us=... p99_us=... echo_p50_us=...
//   e2e terminals=8 payments_per_s=...
// Exit status 0 when every payment was approved and every call succeeded.
//
// Everything lives in a private folder created inside --dir and removed at
// the end; child processes are stopped by PID.
#include <malloc.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/payments/instant_device_port.h"
#include "echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "posd/v1/devices.grpc.pb.h"
#include "posd/v1/events.grpc.pb.h"
#include "posd/v1/payments.grpc.pb.h"
#include "service/common/strings.h"
#include "service/engine/engine.h"
#include "service/store/store.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using posd::testing::Subprocess;

struct Options {
  std::filesystem::path dir = ".";
  int engine_payments = 3000;
  int engine_inflight = 64;
  int sqlite_commits = 3000;
  std::vector<int> clients = {1, 8, 64};
  int calls = 384;  // CreatePayment calls (and echo calls) per client count
  int step_ms = 5;  // the simulator's time per transaction stage
  std::string posd = POSD_BINARY;
  std::string termsim = POSD_TERMSIM_BINARY;
  bool glibc_trim = false;  // glibc's default heap trimming, not posd's setting
};

void Usage() {
  std::fprintf(stderr,
               "usage: bench_payments [--dir DIR] [--engine-payments N] [--engine-inflight N]\n"
               "         [--sqlite-commits N] [--clients 1,8,64|none] [--calls N] [--step-ms N]\n"
               "         [--posd PATH] [--termsim PATH] [--malloc-trim posd|glibc]\n"
               "DIR (default .) must be on the disk to measure: a private folder is made\n"
               "inside it and removed at the end.\n");
}

bool ParseInt(const std::string& text, int& out) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || value < 1 || value > 1'000'000) return false;
  out = static_cast<int>(value);
  return true;
}

std::optional<Options> ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    std::string value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::fprintf(stderr, "%s needs a value\n", name.c_str());
      return std::nullopt;
    }
    bool ok = true;
    if (name == "--dir") {
      options.dir = value;
    } else if (name == "--engine-payments") {
      ok = ParseInt(value, options.engine_payments);
    } else if (name == "--engine-inflight") {
      ok = ParseInt(value, options.engine_inflight);
    } else if (name == "--sqlite-commits") {
      ok = ParseInt(value, options.sqlite_commits);
    } else if (name == "--calls") {
      ok = ParseInt(value, options.calls);
    } else if (name == "--step-ms") {
      ok = ParseInt(value, options.step_ms);
    } else if (name == "--malloc-trim") {
      if (value != "posd" && value != "glibc") ok = false;
      options.glibc_trim = value == "glibc";
    } else if (name == "--posd") {
      options.posd = value;
    } else if (name == "--termsim") {
      options.termsim = value;
    } else if (name == "--clients" && value == "none") {
      options.clients.clear();  // the engine and bare SQLite only
    } else if (name == "--clients") {
      options.clients.clear();
      std::istringstream list(value);
      for (std::string item; std::getline(list, item, ',');) {
        int count = 0;
        ok = ok && ParseInt(item, count) && count <= 256;
        options.clients.push_back(count);
      }
      ok = ok && !options.clients.empty();
    } else {
      std::fprintf(stderr, "unknown option %s\n", name.c_str());
      return std::nullopt;
    }
    if (!ok) {
      std::fprintf(stderr, "bad value for %s: %s\n", name.c_str(), value.c_str());
      return std::nullopt;
    }
  }
  return options;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Nearest-rank percentile of `sorted` (ascending), in microseconds.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// A folder for this run inside --dir, removed with its contents at the end.
class RunFolder {
 public:
  static std::optional<RunFolder> Create(const std::filesystem::path& parent) {
    std::string pattern = (std::filesystem::absolute(parent) / "bench_payments.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "cannot make a folder in %s: %s\n", parent.c_str(),
                   std::strerror(errno));
      return std::nullopt;
    }
    return RunFolder(pattern);
  }
  RunFolder(RunFolder&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  RunFolder& operator=(RunFolder&&) = delete;
  ~RunFolder() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit RunFolder(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

// ---------------------------------------------------------------------------
// Bare SQLite: single-row transactions with posd's durability settings.

struct SqliteRun {
  int commits = 0;
  double seconds = 0;
};

std::optional<SqliteRun> BareSqliteCommits(const std::filesystem::path& file, int commits) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::fprintf(stderr, "sqlite3_open %s: %s\n", file.c_str(), sqlite3_errmsg(db));
    sqlite3_close(db);
    return std::nullopt;
  }
  auto fail = [&](const char* what) {
    std::fprintf(stderr, "bare SQLite, %s: %s\n", what, sqlite3_errmsg(db));
    sqlite3_close(db);
    return std::nullopt;
  };
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                   "CREATE TABLE IF NOT EXISTS commits (id INTEGER PRIMARY KEY, at INTEGER NOT "
                   "NULL, payload BLOB NOT NULL)",
                   nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail("setup");
  }
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO commits (at, payload) VALUES (?, ?)", -1, &insert,
                         nullptr) != SQLITE_OK) {
    return fail("prepare");
  }
  const std::string payload(200, 'p');  // about a payment row
  const auto start = Clock::now();
  for (int i = 0; i < commits; ++i) {
    sqlite3_bind_int64(insert, 1, i);
    sqlite3_bind_blob(insert, 2, payload.data(), static_cast<int>(payload.size()),
                      SQLITE_STATIC);
    // Autocommit: each INSERT is its own transaction, one fsync of the WAL.
    if (sqlite3_step(insert) != SQLITE_DONE) {
      sqlite3_finalize(insert);
      return fail("insert");
    }
    sqlite3_reset(insert);
  }
  const double seconds = Seconds(Clock::now() - start);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return SqliteRun{commits, seconds};
}

// ---------------------------------------------------------------------------
// The engine with an instant terminal.

// Wakes a waiter whenever the engine publishes a new head.
class HeadWatcher final : public posd::engine::EventListener {
 public:
  void OnNewHead(uint64_t head) override {
    {
      const std::lock_guard lock(mutex_);
      head_ = head;
    }
    changed_.notify_all();
  }
  void OnLive(const posd::v1::Event&) override {}
  void OnClose() override {}
  bool WaitFor(uint64_t head, Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] { return head_ >= head; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t head_ = 0;
};

struct EngineRun {
  int payments = 0;
  int64_t transitions = 0;
  double seconds = 0;
  posd::engine::EngineStats stats;
};

std::optional<EngineRun> EngineTransitions(const std::filesystem::path& file, int payments,
                                           int inflight) {
  auto store = posd::store::Store::Open({.path = file.string()});
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", std::string(store.status().ToString()).c_str());
    return std::nullopt;
  }
  posd::bench::InstantDevicePort port;
  auto engine = posd::engine::Engine::Start({.store = store->get(), .devices = &port});
  if (!engine.ok()) {
    std::fprintf(stderr, "engine: %s\n", std::string(engine.status().ToString()).c_str());
    return std::nullopt;
  }
  HeadWatcher watcher;
  (*engine)->broadcaster().Subscribe(&watcher);
  const uint64_t base = (*engine)->broadcaster().head();
  const posd::engine::EngineStats before = (*engine)->stats();

  std::mutex mutex;
  std::condition_variable room;
  int outstanding = 0;  // guarded by mutex
  int failures = 0;     // guarded by mutex
  std::string first_failure;
  const posd::engine::Actor actor{"bench_payments", "ui"};
  const auto start = Clock::now();
  for (int i = 0; i < payments; ++i) {
    {
      std::unique_lock lock(mutex);
      room.wait(lock, [&] { return outstanding < inflight; });
      ++outstanding;
    }
    posd::v1::CreatePaymentRequest request;
    request.set_request_id(posd::StrCat("bench-engine-", i));
    auto* payment = request.mutable_payment();
    payment->set_device_id(posd::StrCat("lane-", i % inflight));
    payment->mutable_amount()->set_amount_minor(1250);
    payment->mutable_amount()->set_currency_code("EUR");
    (*engine)->CreatePayment(actor, request, [&](absl::StatusOr<posd::v1::Payment> created) {
      {
        const std::lock_guard lock(mutex);
        --outstanding;
        if (!created.ok() && failures++ == 0) first_failure = created.status().ToString();
      }
      room.notify_one();
    });
  }
  // Three durable events per payment (no order, no plugins): DISPATCHED,
  // AUTHORIZING, APPROVED.
  const bool done = watcher.WaitFor(base + 3 * static_cast<uint64_t>(payments),
                                    Clock::now() + 300s);
  const double seconds = Seconds(Clock::now() - start);
  const posd::engine::EngineStats after = (*engine)->stats();
  (*engine)->broadcaster().Unsubscribe(&watcher);
  (*engine)->Stop();
  if (failures > 0 || !done) {
    std::fprintf(stderr, "engine: %d of %d payments failed (%s)%s\n", failures, payments,
                 first_failure.c_str(), done ? "" : "; timed out");
    return std::nullopt;
  }
  // Count from the database what is durable, rather than trusting the plan.
  auto reader = (*store)->OpenReader();
  if (!reader.ok()) return std::nullopt;
  auto approved = (*reader)->QueryInt64("SELECT count(*) FROM payments WHERE status = 'APPROVED'");
  auto transitions = (*reader)->QueryInt64(posd::StrCat(
      "SELECT count(*) FROM event_log WHERE kind = 'PAYMENT_CHANGED' AND sequence > ", base));
  if (!approved.ok() || !transitions.ok() || *approved != payments) {
    std::fprintf(stderr, "engine: %lld of %d payments APPROVED in the database\n",
                 approved.ok() ? static_cast<long long>(*approved) : -1LL, payments);
    return std::nullopt;
  }
  EngineRun run{payments, *transitions, seconds, {}};
  run.stats.transactions = after.transactions - before.transactions;
  run.stats.commands = after.commands - before.commands;
  run.stats.largest_group = after.largest_group;
  return run;
}

// ---------------------------------------------------------------------------
// The echo baseline: a bare unary call over a Unix socket.

class EchoService final : public posd::bench::v1::EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const posd::bench::v1::EchoMessage* request,
                                 posd::bench::v1::EchoMessage* response) override {
    *response = *request;
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// Runs `clients` threads, each with its own channel to `address`, each
// calling `call` `calls_each` times after one untimed warm-up call. Returns
// the sorted latencies in microseconds; `errors` counts failed calls.
template <typename Call>
std::vector<double> TimedCalls(const std::string& address, int clients, int calls_each,
                               Call call, std::atomic<int>& errors) {
  std::vector<std::vector<double>> per_client(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      const std::shared_ptr<grpc::Channel> channel =
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
      auto& mine = per_client[static_cast<size_t>(c)];
      double ignored = 0;
      (void)call(channel, c, -1, &ignored);  // connects; not timed
      for (int k = 0; k < calls_each; ++k) {
        double micros = 0;
        if (!call(channel, c, k, &micros)) {
          ++errors;
          return;
        }
        mine.push_back(micros);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<double> all;
  for (auto& mine : per_client) all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  return all;
}

// ---------------------------------------------------------------------------
// posd and its terminals as real processes.

// Follows PAYMENT_CHANGED events and remembers which payments have ended.
class OutcomeWatcher {
 public:
  OutcomeWatcher(std::shared_ptr<grpc::Channel> channel, uint64_t since)
      : stub_(posd::v1::EventService::NewStub(channel)) {
    posd::v1::WatchEventsRequest request;
    request.set_since_sequence(since);
    request.mutable_filter()->add_kinds(posd::v1::EVENT_KIND_PAYMENT_CHANGED);
    reader_ = stub_->WatchEvents(&context_, request);
    thread_ = std::thread([this] { Read(); });
  }
  ~OutcomeWatcher() {
    context_.TryCancel();
    thread_.join();
  }
  // The final status of `payment_id`, or UNSPECIFIED after `timeout`.
  posd::v1::PaymentStatus WaitForEnd(const std::string& payment_id, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return ended_.count(payment_id) != 0; });
    auto it = ended_.find(payment_id);
    if (it == ended_.end()) return posd::v1::PAYMENT_STATUS_UNSPECIFIED;
    const posd::v1::PaymentStatus status = it->second;
    ended_.erase(it);
    return status;
  }

 private:
  void Read() {
    posd::v1::Event event;
    while (reader_->Read(&event)) {
      if (!event.has_payment()) continue;
      const auto status = event.payment().status();
      if (status == posd::v1::PAYMENT_STATUS_APPROVED ||
          status == posd::v1::PAYMENT_STATUS_DECLINED ||
          status == posd::v1::PAYMENT_STATUS_CANCELED ||
          status == posd::v1::PAYMENT_STATUS_FAILED) {
        {
          const std::lock_guard lock(mutex_);
          ended_[event.payment().id()] = status;
        }
        changed_.notify_all();
      }
    }
    (void)reader_->Finish();
  }

  std::unique_ptr<posd::v1::EventService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<posd::v1::Event>> reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, posd::v1::PaymentStatus> ended_;  // guarded by mutex_
  std::thread thread_;
};

struct ClientRow {
  int clients = 0;
  size_t calls = 0;
  double p50_us = 0;
  double p99_us = 0;
  double echo_p50_us = 0;
  double echo_p99_us = 0;
  double e2e_per_s = 0;
  int busy_retries = 0;
};

int CountReady(posd::v1::DeviceService::Stub& devices) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  posd::v1::ListDevicesRequest request;
  request.set_page_size(500);
  request.add_states(posd::v1::DEVICE_STATE_READY);
  posd::v1::ListDevicesResponse response;
  if (!devices.ListDevices(&context, request, &response).ok()) return -1;
  return response.devices_size();
}

// (c) and (d): the echo server, one simulator per client, posd. Appends a
// row per client count; false when a call failed or a payment was not
// approved.
bool PosdPart(const Options& options, const std::filesystem::path& dir,
              std::vector<ClientRow>& rows) {
  bool all_ok = true;
  const int terminals = *std::max_element(options.clients.begin(), options.clients.end());
  EchoService echo_service;
  const std::string echo_address = "unix:" + (dir / "echo.sock").string();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(echo_address, grpc::InsecureServerCredentials());
  builder.RegisterService(&echo_service);
  std::unique_ptr<grpc::Server> echo_server = builder.BuildAndStart();
  if (echo_server == nullptr) {
    std::fprintf(stderr, "cannot serve the echo service on %s\n", echo_address.c_str());
    return false;
  }

  std::filesystem::create_directories(dir / "logs");
  std::vector<Subprocess> sims;
  std::string devices_yaml = "logging:\n  level: warn\ndevices:\n";
  for (int t = 1; t <= terminals; ++t) {
    const std::filesystem::path link = dir / posd::StrCat("terminal-", t, ".pty");
    sims.push_back(Subprocess::Start(
        {options.termsim, "--pty", "--link", link.string(), "--ledger",
         (dir / posd::StrCat("ledger-", t)).string(), "--device-id", posd::StrCat("sim-", t),
         "--step-ms", std::to_string(options.step_ms), "--log-level", "warn"},
        dir / "logs"));
    devices_yaml += posd::StrCat("  - id: counter-", t, "\n    name: Counter ", t,
                                 "\n    serial:\n      port: ", link.string(), "\n");
  }
  for (int t = 1; t <= terminals; ++t) {
    const std::filesystem::path link = dir / posd::StrCat("terminal-", t, ".pty");
    if (!posd::testing::WaitUntil([&] { return std::filesystem::exists(link); }, 60s)) {
      std::fprintf(stderr, "terminal %d did not start: %s\n", t,
                   sims[static_cast<size_t>(t - 1)].Stderr().c_str());
      return false;
    }
  }
  const posd::testing::PosdPaths paths(dir);
  posd::testing::WritePosdConfig(paths, devices_yaml);
  Subprocess posd = posd::testing::StartPosd(options.posd, paths, dir / "logs", 60s);
  if (!posd.Running()) {
    std::fprintf(stderr, "posd did not start: %s\n", posd.Stderr().c_str());
    return false;
  }
  auto channel = grpc::CreateChannel(paths.address(), grpc::InsecureChannelCredentials());
  auto devices = posd::v1::DeviceService::NewStub(channel);
  if (!posd::testing::WaitUntil([&] { return CountReady(*devices) == terminals; }, 120s)) {
    std::fprintf(stderr, "only %d of %d terminals became READY\n", CountReady(*devices),
                 terminals);
    return false;
  }
  uint64_t head = 0;
  {
    grpc::ClientContext context;
    posd::v1::ListEventsRequest request;
    request.set_page_size(1);
    posd::v1::ListEventsResponse response;
    if (!posd::v1::EventService::NewStub(channel)->ListEvents(&context, request, &response).ok()) {
      std::fprintf(stderr, "ListEvents failed\n");
      return false;
    }
    head = response.head_sequence();
  }
  OutcomeWatcher outcomes(channel, head);

  const std::string echo_payload(120, 'e');  // about a CreatePaymentRequest
  for (const int clients : options.clients) {
    const int calls_each = std::max(1, options.calls / clients);
    std::atomic<int> echo_errors{0};
    const std::vector<double> echo = TimedCalls(
        echo_address, clients, calls_each,
        [&](const std::shared_ptr<grpc::Channel>& ch, int, int, double* micros) {
          posd::bench::v1::EchoService::Stub stub(ch);
          posd::bench::v1::EchoMessage request;
          request.set_payload(echo_payload);
          posd::bench::v1::EchoMessage response;
          grpc::ClientContext context;
          const auto start = Clock::now();
          const grpc::Status status = stub.Echo(&context, request, &response);
          *micros = Seconds(Clock::now() - start) * 1e6;
          return status.ok();
        },
        echo_errors);

    std::atomic<int> pay_errors{0};
    std::atomic<int> busy{0};
    std::atomic<int> approved{0};
    std::mutex error_mutex;
    std::string first_error;
    auto note_error = [&](const std::string& what) {
      const std::lock_guard lock(error_mutex);
      if (first_error.empty()) first_error = what;
    };
    const auto phase_start = Clock::now();
    const std::vector<double> latencies = TimedCalls(
        paths.address(), clients, calls_each,
        [&](const std::shared_ptr<grpc::Channel>& ch, int client, int k, double* micros) {
          const std::string device = posd::StrCat("counter-", client + 1);
          if (k < 0) {  // warm-up: a cheap read on the same channel
            posd::v1::DeviceService::Stub stub(ch);
            grpc::ClientContext context;
            posd::v1::GetDeviceRequest request;
            request.set_device_id(device);
            posd::v1::Device response;
            return stub.GetDevice(&context, request, &response).ok();
          }
          posd::v1::PaymentService::Stub stub(ch);
          posd::v1::CreatePaymentRequest request;
          request.set_request_id(posd::StrCat("bench-c", clients, "-", client, "-", k));
          request.mutable_payment()->set_device_id(device);
          request.mutable_payment()->mutable_amount()->set_amount_minor(1250);
          request.mutable_payment()->mutable_amount()->set_currency_code("EUR");
          posd::v1::Payment payment;
          grpc::Status status;
          for (int attempt = 0;; ++attempt) {
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + 30s);
            const auto start = Clock::now();
            status = stub.CreatePayment(&context, request, &payment);
            *micros = Seconds(Clock::now() - start) * 1e6;
            // The terminal may still be finishing the previous sale when its
            // outcome is already committed; that refusal is not timed.
            if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                status.error_message().find("busy") != std::string::npos && attempt < 1000) {
              ++busy;
              std::this_thread::sleep_for(1ms);
              continue;
            }
            break;
          }
          if (!status.ok()) {
            ++pay_errors;
            note_error(posd::StrCat("CreatePayment on ", device, ": ", status.error_message()));
            return false;
          }
          const auto end = outcomes.WaitForEnd(payment.id(), 30s);
          if (end != posd::v1::PAYMENT_STATUS_APPROVED) {
            ++pay_errors;
            note_error(posd::StrCat(payment.id(), " on ", device, " ended ",
                                    posd::v1::PaymentStatus_Name(end)));
            return false;
          }
          ++approved;
          return true;
        },
        pay_errors);
    const double phase_seconds = Seconds(Clock::now() - phase_start);
    if (echo_errors > 0 || pay_errors > 0 ||
        latencies.size() != static_cast<size_t>(clients) * static_cast<size_t>(calls_each)) {
      std::fprintf(stderr, "clients=%d: %d echo errors, %d payment errors (%s)\n", clients,
                   echo_errors.load(), pay_errors.load(), first_error.c_str());
      all_ok = false;
    }
    rows.push_back(ClientRow{clients, latencies.size(), Percentile(latencies, 0.50),
                             Percentile(latencies, 0.99), Percentile(echo, 0.50),
                             Percentile(echo, 0.99), approved.load() / phase_seconds,
                             busy.load()});
  }

  // Stop posd first (it drains and closes the links), then the terminals.
  posd.Signal(SIGTERM);
  const std::optional<int> posd_exit = posd.WaitForExit(30s);
  if (posd_exit != 0) {
    std::fprintf(stderr, "posd did not stop cleanly: %s\n", posd.Stderr().c_str());
    all_ok = false;
  }
  for (auto& sim : sims) sim.Signal(SIGTERM);
  for (auto& sim : sims) sim.WaitForExit(10s);
  echo_server->Shutdown(std::chrono::system_clock::now() + 2s);

  return all_ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> parsed = ParseOptions(argc, argv);
  if (!parsed) {
    Usage();
    return 2;
  }
  const Options options = *parsed;
  // As posd's main does, so the engine here runs as it runs in posd (see
  // service/posd/main.cc); --malloc-trim glibc keeps glibc's default, to compare.
  if (!options.glibc_trim) mallopt(M_TRIM_THRESHOLD, 64 << 20);
  std::optional<RunFolder> folder = RunFolder::Create(options.dir);
  if (!folder) return 1;
  const std::filesystem::path& dir = folder->path();

  // (a) and (b): the engine between two halves of the bare SQLite run.
  const int first_half = options.sqlite_commits / 2;
  auto sqlite_a = BareSqliteCommits(dir / "bare.db", std::max(1, first_half));
  auto engine = EngineTransitions(dir / "engine.db", options.engine_payments,
                                  options.engine_inflight);
  auto sqlite_b =
      BareSqliteCommits(dir / "bare.db", std::max(1, options.sqlite_commits - first_half));
  if (!sqlite_a || !engine || !sqlite_b) return 1;
  const double sqlite_rate =
      (sqlite_a->commits + sqlite_b->commits) / (sqlite_a->seconds + sqlite_b->seconds);
  const double engine_rate = static_cast<double>(engine->transitions) / engine->seconds;

  std::vector<ClientRow> rows;
  bool all_ok = true;
  if (!options.clients.empty() && !PosdPart(options, dir, rows)) all_ok = false;

  const double mean_group = engine->stats.transactions == 0
                                ? 0
                                : static_cast<double>(engine->stats.commands) /
                                      static_cast<double>(engine->stats.transactions);
  std::printf("bench_payments in %s\n\n", options.dir.c_str());
  std::printf("engine: %d payments, %d in flight, instant terminal; store on a file in --dir\n",
              engine->payments, options.engine_inflight);
  std::printf("  %-44s %12lld\n", "durable payment transitions",
              static_cast<long long>(engine->transitions));
  std::printf("  %-44s %12.3f\n", "seconds", engine->seconds);
  std::printf("  %-44s %12.0f\n", "transitions per second", engine_rate);
  std::printf("  %-44s %12llu\n", "group transactions",
              static_cast<unsigned long long>(engine->stats.transactions));
  std::printf("  %-44s %12.1f\n", "commands per transaction (mean)", mean_group);
  std::printf("  %-44s %12llu\n", "commands per transaction (largest)",
              static_cast<unsigned long long>(engine->stats.largest_group));
  std::printf("bare SQLite: %d single-row transactions, WAL, synchronous=FULL, same folder\n",
              sqlite_a->commits + sqlite_b->commits);
  std::printf("  %-44s %12.0f\n", "commits per second", sqlite_rate);
  std::printf("  %-44s %12.2f\n\n", "ratio engine transitions / bare commits",
              engine_rate / sqlite_rate);
  if (!rows.empty()) {
    std::printf("posd + %d posd-termsim processes (--step-ms %d), one terminal per client;\n"
                "echo: bare unary gRPC call to a service in this process, Unix socket\n",
                std::max_element(rows.begin(), rows.end(),
                                 [](const ClientRow& a, const ClientRow& b) {
                                   return a.clients < b.clients;
                                 })->clients,
                options.step_ms);
    std::printf("%8s %7s %14s %14s %12s %12s %10s %6s\n", "clients", "calls", "create_p50_us",
                "create_p99_us", "echo_p50_us", "echo_p99_us", "e2e_pay/s", "busy");
    for (const ClientRow& row : rows) {
      std::printf("%8d %7zu %14.0f %14.0f %12.0f %12.0f %10.1f %6d\n", row.clients, row.calls,
                  row.p50_us, row.p99_us, row.echo_p50_us, row.echo_p99_us, row.e2e_per_s,
                  row.busy_retries);
    }
  }
  std::printf("\n");
  std::printf("engine transitions_per_s=%.0f sqlite_single_commits_per_s=%.0f ratio=%.2f\n",
              engine_rate, sqlite_rate, engine_rate / sqlite_rate);
  std::printf("engine_groups transactions=%llu commands=%llu mean_group=%.1f largest_group=%llu\n",
              static_cast<unsigned long long>(engine->stats.transactions),
              static_cast<unsigned long long>(engine->stats.commands), mean_group,
              static_cast<unsigned long long>(engine->stats.largest_group));
  for (const ClientRow& row : rows) {
    std::printf("createpayment clients=%d p50_us=%.0f p99_us=%.0f echo_p50_us=%.0f\n", row.clients,
                row.p50_us, row.p99_us, row.echo_p50_us);
  }
  for (const ClientRow& row : rows) {
    std::printf("e2e terminals=%d payments_per_s=%.1f\n", row.clients, row.e2e_per_s);
  }
  return all_ok ? 0 : 1;
}
