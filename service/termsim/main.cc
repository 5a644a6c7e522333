// posd-termsim: a simulated payment terminal that speaks posd's terminal
// protocol over a pseudo-terminal (or a real serial port), keeps a durable
// ledger of every charge and refund, and plays faults on demand.
// See README.md.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "service/channel/result_ledger.h"
#include "service/common/version.h"
#include "service/termsim/control_server.h"
#include "service/termsim/fault_switch.h"
#include "service/termsim/pty_line.h"
#include "service/termsim/simulator.h"
#include "service/transport/serial_port.h"

namespace {

using namespace posd;

// `posd-termsim ledger FILE`: one JSON object per transaction, in start order.
int PrintLedger(const std::string& path) {
  auto transactions = channel::ResultLedger::ReadTransactions(path);
  if (!transactions.ok()) {
    std::cerr << "posd-termsim: " << transactions.status().message() << "\n";
    return transactions.status().code() == absl::StatusCode::kNotFound ? 66 : 65;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  for (const auto& t : *transactions) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(t, &json, options);
    std::cout << json << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"posd-termsim: a simulated payment terminal for posd"};
  app.require_subcommand(0, 1);
  std::string ledger_to_print;
  CLI::App* ledger_cmd = app.add_subcommand("ledger", "print a ledger file as JSON lines");
  ledger_cmd->add_option("file", ledger_to_print, "ledger file")->required();

  bool use_pty = false;
  std::string link, port, ledger_path = "termsim.ledger", control_path;
  int baud = 115200;
  std::vector<std::string> fault_specs;
  int step_ms = 300, slow_ms = 10000, power_off_ms = 1000;
  std::string log_level = "info";
  channel::TerminalEndpointOptions endpoint;
  app.add_flag("--pty", use_pty, "create a pseudo-terminal and print 'PTY <slave path>'");
  app.add_option("--link", link, "with --pty: also make this symlink to the slave path");
  app.add_option("--port", port, "use this serial port instead of a pty");
  app.add_option("--baud", baud, "line speed")->capture_default_str();
  app.add_option("--ledger", ledger_path, "durable ledger file")->capture_default_str();
  app.add_option("--control", control_path, "Unix socket for control commands");
  app.add_option("--device-id", endpoint.device_id, "terminal id")->capture_default_str();
  app.add_option("--model", endpoint.model, "terminal model")->capture_default_str();
  app.add_option("--firmware", endpoint.firmware_version, "firmware version")
      ->capture_default_str();
  app.add_option("--currency", endpoint.currency_codes, "accepted currencies (default: any)");
  app.add_option("--fault", fault_specs,
                 "arm a fault: NAME[:once|always|off|N|P] with NAME one of approve-no-answer, "
                 "crash-after-charge, power-loss, garbage, no-heartbeat");
  app.add_option("--step-ms", step_ms, "time per transaction stage")->capture_default_str();
  app.add_option("--slow-ms", slow_ms, "extra processing time for amounts ending in 53")
      ->capture_default_str();
  app.add_option("--power-off-ms", power_off_ms, "dark time after a power loss")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (ledger_cmd->parsed()) return PrintLedger(ledger_to_print);

  auto logger = spdlog::stderr_color_mt("termsim");
  logger->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (use_pty == !port.empty()) {
    std::cerr << "posd-termsim: give exactly one of --pty or --port\n";
    return 64;
  }
  termsim::FaultSwitch faults;
  for (const std::string& spec : fault_specs) {
    if (absl::Status s = faults.Parse(spec); !s.ok()) {
      std::cerr << "posd-termsim: --fault " << spec << ": " << s.message() << "\n";
      return 64;
    }
  }

  // A pty master whose reader left gives SIGPIPE-free EIO; a control client
  // that disconnects mid-reply must not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io;
  termsim::SimulatorOptions options;
  options.endpoint = endpoint;
  options.endpoint.step_delay = std::chrono::milliseconds(step_ms);
  options.rules.slow_delay = std::chrono::milliseconds(slow_ms);
  options.power_off = std::chrono::milliseconds(power_off_ms);
  options.ledger_path = ledger_path;
  options.baud = static_cast<uint32_t>(baud);
  std::unique_ptr<termsim::PtyLine> pty;
  std::string line_name;
  if (use_pty) {
    auto created = termsim::PtyLine::Create(link);
    if (!created.ok()) {
      std::cerr << "posd-termsim: " << created.status().message() << "\n";
      return 69;
    }
    pty = *std::move(created);
    line_name = pty->slave_path();
    options.line_description = "pty " + line_name;
    options.opener = [&io, line = pty.get()] { return line->OpenMaster(io); };
  } else {
    transport::SerialSettings settings;
    settings.port = port;
    settings.baud = baud;
    line_name = port;
    options.line_description = "serial " + port;
    options.opener = [&io, settings]() -> absl::StatusOr<std::unique_ptr<transport::ByteStream>> {
      auto opened = transport::SerialPort::Open(io, settings);
      if (!opened.ok()) return opened.status();
      return std::unique_ptr<transport::ByteStream>(*std::move(opened));
    };
  }

  auto sim = termsim::Simulator::Create(io, options, faults);
  if (!sim.ok()) {
    std::cerr << "posd-termsim: " << sim.status().message() << "\n";
    return sim.status().code() == absl::StatusCode::kFailedPrecondition ? 75 : 70;
  }
  std::unique_ptr<termsim::ControlServer> control;
  if (!control_path.empty()) {
    auto server = termsim::ControlServer::Create(
        io, control_path, [s = sim->get()](std::string_view l) { return s->Command(l); });
    if (!server.ok()) {
      std::cerr << "posd-termsim: " << server.status().message() << "\n";
      return 69;
    }
    control = *std::move(server);
  }

  std::cout << "posd-termsim " << posd::kVersion << " - simulated payment terminal\n"
            << "  device   " << endpoint.device_id << " (" << endpoint.model << ", firmware "
            << endpoint.firmware_version << ")\n"
            << "  line     " << line_name << (link.empty() ? "" : " (link " + link + ")") << ", "
            << baud << " baud\n"
            << "  ledger   " << ledger_path << " (" << (*sim)->ledger().transaction_count()
            << " transactions, " << (*sim)->ledger().approved_count() << " approved)\n"
            << "  rules    amount ending in .51 declines, .52 asks for a PIN, .53 is slow ("
            << slow_ms << " ms), .54 customer cancels, .55 acquirer error; else approves\n"
            << "  faults   " << faults.Describe() << "\n";
  if (control) {
    std::cout << "  control  " << control_path << "  (echo status | socat - UNIX-CONNECT:"
              << control_path << ")\n";
  }
  if (pty) std::cout << "PTY " << pty->slave_path() << "\n";
  std::cout << std::flush;

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signal);
    io.stop();
  });
  io.run();
  sim->reset();
  return 0;
}
