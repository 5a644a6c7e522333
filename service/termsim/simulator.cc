#include "service/termsim/simulator.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "service/common/clock.h"
#include "service/common/strings.h"

namespace posd::termsim {
namespace {

namespace v1 = ::posd::link::v1;

std::string Amount(int64_t minor, std::string_view currency) {
  return fmt::format("{}.{:02d} {}", minor / 100, minor % 100, currency);
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

}  // namespace

LineFactory SerialLine(boost::asio::io_context& io, channel::ByteStreamOpener opener,
                       std::string description, uint32_t baud) {
  return [&io, opener = std::move(opener), description = std::move(description),
          baud]() -> absl::StatusOr<TerminalLine> {
    channel::SerialLinkTransportOptions t;
    t.link.baud = baud;
    t.description = description;
    auto transport = channel::SerialLinkTransport::Create(io, opener, t);
    if (!transport.ok()) return transport.status();
    TerminalLine line;
    line.write_garbage = [serial = transport->get()](std::vector<uint8_t> bytes) {
      return serial->WriteRaw(std::move(bytes));
    };
    line.transport = *std::move(transport);
    return line;
  };
}

absl::StatusOr<std::unique_ptr<Simulator>> Simulator::Create(boost::asio::io_context& io,
                                                             SimulatorOptions options,
                                                             FaultSwitch faults) {
  if (!options.make_line) return absl::InvalidArgumentError("simulator: no line");
  auto ledger = channel::ResultLedger::Open(options.ledger_path, RealClock::Get());
  if (!ledger.ok()) return ledger.status();
  std::unique_ptr<Simulator> sim(
      new Simulator(io, std::move(options), std::move(faults), *std::move(ledger)));
  if (absl::Status s = sim->Boot(); !s.ok()) return s;
  return sim;
}

Simulator::Simulator(boost::asio::io_context& io, SimulatorOptions options, FaultSwitch faults,
                     std::unique_ptr<channel::ResultLedger> ledger)
    : io_(io),
      options_(std::move(options)),
      faults_(std::move(faults)),
      timers_(io),
      ledger_(std::move(ledger)) {}

Simulator::~Simulator() {
  *alive_ = false;
  endpoint_.reset();
  if (transport_) transport_->Close();
}

absl::Status Simulator::Boot() {
  absl::StatusOr<TerminalLine> line = options_.make_line();
  if (!line.ok()) return line.status();
  transport_ = std::make_unique<RelocatableTransport>(std::move(line->transport));
  write_garbage_ = std::move(line->write_garbage);
  channel::TerminalEndpointOptions endpoint_options = options_.endpoint;
  endpoint_options.session_epoch = 0;  // every boot draws a new epoch
  auto endpoint = channel::TerminalEndpoint::Create(endpoint_options, *transport_, timers_,
                                                    RealClock::Get(), *ledger_, *this);
  if (!endpoint.ok()) return endpoint.status();
  endpoint_ = *std::move(endpoint);
  endpoint_->Start();
  powered_ = true;
  ++boots_;
  spdlog::info("terminal booted: epoch {:016x}", endpoint_->session_epoch());
  return absl::OkStatus();
}

void Simulator::PowerCut() {
  if (!powered_) return;
  powered_ = false;
  spdlog::warn("POWER LOSS: volatile memory gone, back in {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(options_.power_off).count());
  // Called from inside the endpoint's hooks too: tear down from the loop.
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, options_.power_off);
  boost::asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    if (endpoint_) endpoint_->Halt();
    endpoint_.reset();
    if (transport_) transport_->Close();
    write_garbage_ = nullptr;
    transport_.reset();
  });
  timer->async_wait([this, timer, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    if (absl::Status s = Boot(); !s.ok()) {
      spdlog::error("boot failed: {}", s.ToString());
      io_.stop();
    }
  });
}

absl::StatusOr<std::string> Simulator::Move(std::string_view address) {
  if (!options_.move_line) return absl::FailedPreconditionError("move needs --websocket");
  absl::StatusOr<TerminalLine> line = options_.move_line(address);
  if (!line.ok()) return line.status();
  if (transport_) {
    transport_->MoveTo(std::move(line->transport));
    write_garbage_ = std::move(line->write_garbage);
  }
  // Powered off: the next boot listens at the new address (move_line saw to
  // it); the line made now is simply dropped.
  spdlog::warn("MOVED to {}: the link to posd dropped, same terminal serving there",
               line->listen_address);
  return line->listen_address;
}

void Simulator::WriteGarbage(size_t count) {
  if (!transport_ || !write_garbage_) return;
  static std::mt19937 rng{std::random_device{}()};
  std::vector<uint8_t> bytes(count);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  if (absl::Status s = write_garbage_(std::move(bytes)); !s.ok()) {
    spdlog::warn("garbage not written: {}", s.ToString());
    return;
  }
  spdlog::warn("wrote {} garbage bytes on the line", count);
}

channel::TransactionPlan Simulator::Plan(const channel::ledger::Started& request) {
  if (faults_.Fire(Fault::kGarbage)) WriteGarbage(64);
  return PlanFor(request, options_.rules);
}

channel::AfterRecord Simulator::AfterRecorded(const v1::Result& result) {
  if (result.outcome() != v1::OUTCOME_APPROVED) return channel::AfterRecord::kAnswer;
  if (faults_.Fire(Fault::kCrashAfterCharge)) {
    spdlog::critical("CRASH after charging {} (ledger written, Result never sent); exit {}",
                     result.transaction_id(), options_.crash_exit_code);
    spdlog::default_logger()->flush();
    std::fflush(stdout);
    if (options_.on_crash) options_.on_crash();
    std::_Exit(options_.crash_exit_code);
  }
  if (faults_.Fire(Fault::kPowerLoss)) {
    spdlog::warn("fault power-loss after charging {}", result.transaction_id());
    PowerCut();
    return channel::AfterRecord::kHalt;
  }
  if (faults_.Fire(Fault::kApproveNoAnswer)) {
    spdlog::warn("fault approve-no-answer: {} charged, Result withheld", result.transaction_id());
    return channel::AfterRecord::kStaySilent;
  }
  return channel::AfterRecord::kAnswer;
}

bool Simulator::AnswerHeartbeat() {
  if (faults_.Fire(Fault::kGarbage)) WriteGarbage(64);
  return !faults_.Fire(Fault::kNoHeartbeat);
}

void Simulator::OnFinished(const channel::ledger::Started& request, const v1::Result& result) {
  const bool sale = request.kind() == channel::ledger::TRANSACTION_KIND_SALE;
  std::string detail;
  if (result.outcome() == v1::OUTCOME_APPROVED) {
    detail = fmt::format("code {} {} {}", result.approval_code(), result.card_brand(),
                         result.masked_pan());
  } else {
    detail = fmt::format("{} {}", result.reason_code(), result.reason_text());
  }
  spdlog::info("{:<28} {:<6} {:>14} -> {:<8} {}", request.transaction_id(),
               sale ? "SALE" : "REFUND",
               Amount(request.amount_minor() + request.tip_minor(), request.currency_code()),
               v1::Outcome_Name(result.outcome()).substr(8), detail);
}

std::string Simulator::Status() const {
  return fmt::format(
      "OK power={} epoch={:016x} session={} running={} ledger={} approved={} boots={} faults={}",
      powered_ ? "on" : "off", endpoint_ ? endpoint_->session_epoch() : 0,
      endpoint_ && endpoint_->in_session() ? "up" : "down",
      endpoint_ && !endpoint_->running_transaction().empty() ? endpoint_->running_transaction()
                                                              : "-",
      ledger_->transaction_count(), ledger_->approved_count(), boots_, faults_.Describe());
}

std::string Simulator::Command(std::string_view line) {
  std::vector<std::string_view> w = Words(line);
  if (w.empty()) return "ERR empty command (try: help)";
  const std::string_view verb = w[0];
  if (verb == "help") {
    return "OK commands: status | fault NAME once|always|off|next N|prob P | power-cut | "
           "garbage N | move ADDR:PORT | quit";
  }
  if (verb == "status") return Status();
  if (verb == "fault") {
    if (w.size() < 3) return "ERR usage: fault NAME once|always|off|next N|prob P";
    absl::Status s = faults_.SetFromWords(w[1], w[2], w.size() > 3 ? w[3] : "");
    if (!s.ok()) return StrCat("ERR ", s.message());
    spdlog::info("faults now: {}", faults_.Describe());
    return StrCat("OK faults=", faults_.Describe());
  }
  if (verb == "power-cut") {
    if (!powered_) return "ERR already powered off";
    PowerCut();
    return "OK power cut";
  }
  if (verb == "garbage") {
    size_t count = 0;
    if (w.size() != 2 || !absl::SimpleAtoi(ToAbsl(w[1]), &count) || count == 0 || count > 65536) {
      return "ERR usage: garbage N (1..65536)";
    }
    if (!transport_) return "ERR powered off";
    WriteGarbage(count);
    return StrCat("OK wrote ", count, " bytes");
  }
  if (verb == "move") {
    if (w.size() != 2) return "ERR usage: move ADDR:PORT (port 0 picks a free one)";
    absl::StatusOr<std::string> moved = Move(w[1]);
    if (!moved.ok()) return StrCat("ERR ", moved.status().message());
    return StrCat("OK moved ", *moved);
  }
  if (verb == "quit") {
    spdlog::info("quit requested on the control socket");
    boost::asio::post(io_, [this] { io_.stop(); });
    return "OK bye";
  }
  return StrCat("ERR unknown command '", verb, "' (try: help)");
}

}  // namespace posd::termsim
