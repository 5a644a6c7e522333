// posd-termsim's terminal: a TerminalEndpoint over a MessageTransport (a
// SerialLinkTransport on a pty or serial port, or a WebSocket server), with
// the decision rules, the fault switches, the ledger and power cycles.
// main.cc only parses flags and sets up the line and the control socket.
//
// Threading: everything runs on the io_context's thread, including
// Command(). Lifetime: the io_context must outlive the simulator.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/channel/asio_timer.h"
#include "service/channel/result_ledger.h"
#include "service/channel/serial_link_transport.h"
#include "service/channel/terminal_endpoint.h"
#include "service/termsim/fault_switch.h"
#include "service/termsim/relocatable_transport.h"
#include "service/termsim/rules.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::termsim {

// The terminal's connection to posd, made anew at every boot (a power cut
// closes it): the transport, and how to put noise on it.
struct TerminalLine {
  std::unique_ptr<channel::MessageTransport> transport;
  // Writes bytes outside the protocol's messages (the "garbage" fault).
  std::function<absl::Status(std::vector<uint8_t> bytes)> write_garbage;
  // Where it listens ("127.0.0.2:40123"), for lines that have an address.
  std::string listen_address;
};
using LineFactory = std::function<absl::StatusOr<TerminalLine>()>;
// Makes the line at another address ("ADDR:PORT", port 0 picks one) and
// makes it where the next boots listen too (the `move` command).
using LineMover = std::function<absl::StatusOr<TerminalLine>(std::string_view address)>;

// A LineFactory for a serial line (pty or port) opened by `opener`.
LineFactory SerialLine(boost::asio::io_context& io, channel::ByteStreamOpener opener,
                       std::string description, uint32_t baud);

struct SimulatorOptions {
  channel::TerminalEndpointOptions endpoint;
  RuleOptions rules;
  std::string ledger_path;
  // Required: makes the line at every boot.
  LineFactory make_line;
  // Optional (WebSocket): moves the terminal to another address.
  LineMover move_line;
  // How long the terminal stays dark after a power loss.
  channel::Duration power_off = std::chrono::seconds(1);
  // Exit status after crash-after-charge.
  int crash_exit_code = 3;
  // Optional: runs just before crash-after-charge exits (no destructor runs
  // after it). main removes the pty's link there: the terminal's port goes
  // with it, and a stale link could lead posd to a pty number that another
  // process reuses.
  std::function<void()> on_crash;
};

class Simulator final : private channel::TerminalEndpointHooks {
 public:
  static absl::StatusOr<std::unique_ptr<Simulator>> Create(boost::asio::io_context& io,
                                                           SimulatorOptions options,
                                                           FaultSwitch faults);
  ~Simulator() override;

  // One control command; returns the one-line reply ("OK ..." / "ERR ...").
  // `quit` stops the io_context.
  std::string Command(std::string_view line);

  // Cuts the power now; the terminal boots again after options.power_off.
  void PowerCut();
  // Moves the running terminal to `address` (move_line): the connection
  // drops as a lost link, the same endpoint (epoch, ledger, transactions in
  // flight) serves at the new address. Returns the address it listens at.
  absl::StatusOr<std::string> Move(std::string_view address);
  std::string Status() const;
  const channel::ResultLedger& ledger() const { return *ledger_; }

 private:
  Simulator(boost::asio::io_context& io, SimulatorOptions options, FaultSwitch faults,
            std::unique_ptr<channel::ResultLedger> ledger);
  absl::Status Boot();
  void WriteGarbage(size_t count);

  channel::TransactionPlan Plan(const channel::ledger::Started& request) override;
  channel::AfterRecord AfterRecorded(const link::v1::Result& result) override;
  bool AnswerHeartbeat() override;
  void OnFinished(const channel::ledger::Started& request, const link::v1::Result& result) override;

  boost::asio::io_context& io_;
  SimulatorOptions options_;
  FaultSwitch faults_;
  channel::AsioTimerFactory timers_;
  std::unique_ptr<channel::ResultLedger> ledger_;
  std::unique_ptr<RelocatableTransport> transport_;
  std::function<absl::Status(std::vector<uint8_t>)> write_garbage_;
  std::unique_ptr<channel::TerminalEndpoint> endpoint_;
  bool powered_ = false;
  uint64_t boots_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace posd::termsim
