// posd-termsim: a simulated payment terminal that speaks posd's terminal
// protocol over a pseudo-terminal, a real serial port or as a WebSocket
// server, keeps a durable ledger of every charge and refund, plays faults on
// demand, and can announce itself over DNS-SD (Avahi) and with a UDP beacon.
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
#include "service/channel/envelope_codec.h"
#include "service/channel/result_ledger.h"
#include "service/common/strings.h"
#include "service/common/version.h"
#include "service/termsim/control_server.h"
#include "service/termsim/fault_switch.h"
#include "service/termsim/pty_line.h"
#include "service/discovery/avahi_publisher.h"
#include "service/discovery/beacon_sender.h"
#include "service/termsim/simulator.h"
#include "service/transport/serial_port.h"
#include "service/websocket/websocket_server_transport.h"

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

// The control socket's `dns-sd` answer: what is announced and since when, so
// tests and benchmarks can wait for an announcement to be established.
std::string DnsSdStatusLine(const discovery::AvahiPublisher& publisher) {
  const discovery::PublisherStatus s = publisher.status();
  const auto mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           s.established_at.time_since_epoch())
                           .count();
  const auto unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           s.established_wall.time_since_epoch())
                           .count();
  return StrCat("OK dns-sd state=", discovery::PublisherStateName(s.state),
                " address=", s.address.empty() ? "-" : s.address, " port=", s.port,
                " host=", s.host_name.empty() ? "-" : s.host_name,
                " established=", s.established_count, " established_mono_ns=", mono_ns,
                " established_unix_ms=", unix_ms, " collisions=", s.collisions,
                " name=", s.instance_name);
}

// Beacons leave from the address the terminal serves on, so listeners see
// where it is; a wildcard listen address leaves the choice to the kernel.
std::string BeaconSource(const std::string& listen_host) {
  return listen_host == "0.0.0.0" || listen_host == "::" ? "" : listen_host;
}

termsim::TerminalLine WebSocketLine(std::unique_ptr<websocket::WebSocketServerTransport> server,
                                    const std::string& host) {
  termsim::TerminalLine line;
  const bool v6 = host.find(':') != std::string::npos;
  line.listen_address = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(server->local_port());
  line.write_garbage = [raw = server.get()](std::vector<uint8_t> bytes) {
    return raw->SendRaw(bytes);
  };
  line.transport = std::move(server);
  return line;
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
  std::string ws_listen, ws_path = "/", tls_cert, tls_key, beacon_to;
  int ws_dead_peer_ms = 3000, ws_ping_ms = 1000, beacon_interval_ms = 1000;
  app.add_option("--websocket", ws_listen,
                 "serve WebSocket on ADDRESS:PORT (port 0: pick one) and print "
                 "'WEBSOCKET ADDRESS:PORT'");
  app.add_option("--ws-path", ws_path, "with --websocket: HTTP path served")
      ->capture_default_str();
  app.add_option("--tls-cert", tls_cert, "with --websocket: serve wss:// with this PEM chain");
  app.add_option("--tls-key", tls_key, "with --tls-cert: its PEM private key");
  app.add_option("--ws-ping-ms", ws_ping_ms, "with --websocket: ping interval")
      ->capture_default_str();
  app.add_option("--ws-dead-peer-ms", ws_dead_peer_ms,
                 "with --websocket: drop a controller silent for this long")
      ->capture_default_str();
  app.add_option("--beacon", beacon_to,
                 "with --websocket: send a UDP beacon to this unicast IP:PORT");
  app.add_option("--beacon-interval-ms", beacon_interval_ms, "time between beacons")
      ->capture_default_str();
  bool dns_sd = false;
  std::string dns_sd_name;
  app.add_flag("--dns-sd", dns_sd,
               "with --websocket: publish _posterm._tcp through avahi-daemon (id, proto, path, "
               "tls in TXT)");
  app.add_option("--dns-sd-name", dns_sd_name,
                 "with --dns-sd: the service instance name (default 'posd-termsim <device id>')");
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

  if (int(use_pty) + int(!port.empty()) + int(!ws_listen.empty()) != 1) {
    std::cerr << "posd-termsim: give exactly one of --pty, --port or --websocket\n";
    return 64;
  }
  if (!beacon_to.empty() && ws_listen.empty()) {
    std::cerr << "posd-termsim: --beacon needs --websocket\n";
    return 64;
  }
  if (dns_sd && ws_listen.empty()) {
    std::cerr << "posd-termsim: --dns-sd needs --websocket\n";
    return 64;
  }
  if (dns_sd_name.empty()) dns_sd_name = "posd-termsim " + endpoint.device_id;
  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "posd-termsim: give both --tls-cert and --tls-key\n";
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
  std::unique_ptr<termsim::PtyLine> pty;
  std::string line_name;
  // WebSocket: the port bound at the first boot is kept for every reboot, so
  // posd finds the terminal where it was (unless an address change is asked).
  websocket::WebSocketServerOptions ws_options;
  uint16_t ws_port = 0;
  // Declared before the simulator: `move` re-points them.
  std::unique_ptr<discovery::BeaconSender> beacon;
  std::unique_ptr<discovery::AvahiPublisher> dns_sd_publisher;
  if (!ws_listen.empty()) {
    auto listen = websocket::ParseHostPort(ws_listen);
    if (!listen.ok()) {
      std::cerr << "posd-termsim: --websocket: " << listen.status().message() << "\n";
      return 64;
    }
    ws_options.address = listen->host;
    ws_options.port = listen->port;
    ws_options.path = ws_path;
    ws_options.tls = {.enabled = !tls_cert.empty(),
                      .certificate_file = tls_cert,
                      .private_key_file = tls_key};
    ws_options.websocket.ping_interval = std::chrono::milliseconds(ws_ping_ms);
    ws_options.websocket.dead_peer_timeout = std::chrono::milliseconds(ws_dead_peer_ms);
    options.make_line = [&io, &ws_options, &ws_port]() -> absl::StatusOr<termsim::TerminalLine> {
      websocket::WebSocketServerOptions now = ws_options;
      if (ws_port != 0) now.port = ws_port;
      auto server = websocket::WebSocketServerTransport::Create(io, now);
      if (!server.ok()) return server.status();
      ws_port = (*server)->local_port();
      return WebSocketLine(*std::move(server), now.address);
    };
    // `move ADDR:PORT`: listen there from now on (and after reboots), beacon
    // from there and announce it over DNS-SD.
    options.move_line = [&io, &ws_options, &ws_port, &beacon,
                         &dns_sd_publisher](std::string_view address) -> absl::StatusOr<termsim::TerminalLine> {
      auto target = websocket::ParseHostPort(address);
      if (!target.ok()) return target.status();
      websocket::WebSocketServerOptions now = ws_options;
      now.address = target->host;
      now.port = target->port;
      auto server = websocket::WebSocketServerTransport::Create(io, now);
      if (!server.ok()) return server.status();
      ws_options.address = now.address;
      ws_port = (*server)->local_port();
      if (beacon) {
        if (absl::Status moved = beacon->MoveTo(BeaconSource(now.address), ws_port); !moved.ok()) {
          spdlog::warn("beacon still sent from the old address: {}", moved.ToString());
        }
      }
      if (dns_sd_publisher) {
        if (absl::Status moved = dns_sd_publisher->Update(now.address, ws_port); !moved.ok()) {
          spdlog::warn("DNS-SD still announces the old address: {}", moved.ToString());
        }
      }
      return WebSocketLine(*std::move(server), now.address);
    };
  } else if (use_pty) {
    auto created = termsim::PtyLine::Create(link);
    if (!created.ok()) {
      std::cerr << "posd-termsim: " << created.status().message() << "\n";
      return 69;
    }
    pty = *std::move(created);
    options.on_crash = [line = pty.get()] { line->RemoveLink(); };
    line_name = pty->slave_path();
    options.make_line = termsim::SerialLine(
        io, [&io, line = pty.get()] { return line->OpenMaster(io); }, "pty " + line_name,
        static_cast<uint32_t>(baud));
  } else {
    transport::SerialSettings settings;
    settings.port = port;
    settings.baud = baud;
    line_name = port;
    options.make_line = termsim::SerialLine(
        io,
        [&io, settings]() -> absl::StatusOr<std::unique_ptr<transport::ByteStream>> {
          auto opened = transport::SerialPort::Open(io, settings);
          if (!opened.ok()) return opened.status();
          return std::unique_ptr<transport::ByteStream>(*std::move(opened));
        },
        "serial " + port, static_cast<uint32_t>(baud));
  }

  auto sim = termsim::Simulator::Create(io, options, faults);
  if (!sim.ok()) {
    std::cerr << "posd-termsim: " << sim.status().message() << "\n";
    return sim.status().code() == absl::StatusCode::kFailedPrecondition ? 75 : 70;
  }
  if (!beacon_to.empty()) {
    auto target = websocket::ParseHostPort(beacon_to);
    if (!target.ok()) {
      std::cerr << "posd-termsim: --beacon: " << target.status().message() << "\n";
      return 64;
    }
    auto sender = discovery::BeaconSender::Create(
        io, {.host = target->host,
             .port = target->port,
             .interval = std::chrono::milliseconds(beacon_interval_ms),
             .source = BeaconSource(ws_options.address),
             .beacon = {.terminal_id = endpoint.device_id,
                        .port = ws_port,
                        .protocol_version = channel::kProtocolVersion,
                        .path = ws_path,
                        .tls = !tls_cert.empty()}});
    if (!sender.ok()) {
      std::cerr << "posd-termsim: --beacon: " << sender.status().message() << "\n";
      return 64;
    }
    beacon = *std::move(sender);
    beacon->Start();
  }
  if (dns_sd) {
    auto publisher = discovery::AvahiPublisher::Create(
        {.instance_name = dns_sd_name,
         .address = ws_options.address,
         .port = ws_port,
         .txt = {.terminal_id = endpoint.device_id,
                 .protocol_version = channel::kProtocolVersion,
                 .path = ws_path,
                 .tls = !tls_cert.empty()}});
    if (!publisher.ok()) {
      std::cerr << "posd-termsim: --dns-sd: " << publisher.status().message() << "\n";
      return 64;
    }
    dns_sd_publisher = *std::move(publisher);
  }
  std::unique_ptr<termsim::ControlServer> control;
  if (!control_path.empty()) {
    auto server = termsim::ControlServer::Create(
        io, control_path,
        [s = sim->get(), publisher = dns_sd_publisher.get()](std::string_view l) {
          if (l == "dns-sd") {
            return publisher != nullptr ? DnsSdStatusLine(*publisher)
                                        : std::string("ERR dns-sd is off (start with --dns-sd)");
          }
          if (l == "help" && publisher != nullptr) return s->Command(l) + " | dns-sd";
          return s->Command(l);
        });
    if (!server.ok()) {
      std::cerr << "posd-termsim: " << server.status().message() << "\n";
      return 69;
    }
    control = *std::move(server);
  }

  std::cout << "posd-termsim " << posd::kVersion << " - simulated payment terminal\n"
            << "  device   " << endpoint.device_id << " (" << endpoint.model << ", firmware "
            << endpoint.firmware_version << ")\n"
            << "  line     "
            << (ws_listen.empty()
                    ? line_name + (link.empty() ? "" : " (link " + link + ")") + ", " +
                          std::to_string(baud) + " baud"
                    : websocket::EndpointUrl({.host = ws_options.address, .port = ws_port,
                                              .path = ws_path},
                                             !tls_cert.empty()))
            << "\n"
            << "  ledger   " << ledger_path << " (" << (*sim)->ledger().transaction_count()
            << " transactions, " << (*sim)->ledger().approved_count() << " approved)\n"
            << "  rules    amount ending in .51 declines, .52 asks for a PIN, .53 is slow ("
            << slow_ms << " ms), .54 customer cancels, .55 acquirer error; else approves\n"
            << "  faults   " << faults.Describe() << "\n";
  if (control) {
    std::cout << "  control  " << control_path << "  (echo status | socat - UNIX-CONNECT:"
              << control_path << ")\n";
  }
  if (beacon) std::cout << "  beacon   to " << beacon_to << " every " << beacon_interval_ms << " ms\n";
  if (dns_sd_publisher) {
    const discovery::PublisherStatus announced = dns_sd_publisher->status();
    std::cout << "  dns-sd   '" << announced.instance_name << "' " << discovery::kPostermServiceType
              << " port " << ws_port << " at "
              << (announced.host_name.empty() ? "this host's addresses"
                                              : announced.host_name + " (" + announced.address + ")")
              << ", TXT id=" << endpoint.device_id << " proto=" << channel::kProtocolVersion
              << " path=" << ws_path << " tls=" << (tls_cert.empty() ? 0 : 1) << "\n";
  }
  if (pty) std::cout << "PTY " << pty->slave_path() << "\n";
  if (!ws_listen.empty()) {
    const bool v6 = ws_options.address.find(':') != std::string::npos;
    std::cout << "WEBSOCKET " << (v6 ? "[" : "") << ws_options.address << (v6 ? "]" : "") << ":"
              << ws_port << "\n";
  }
  std::cout << std::flush;

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signal);
    io.stop();
  });
  io.run();
  dns_sd_publisher.reset();
  sim->reset();
  return 0;
}
