// posctl devices list | show ID | add | remove ID | trace ID | dump ID --file F
//   | discover [--watch]
#pragma once

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "service/posctl/cli_context.h"

namespace posd::posctl {

// Values given to the device commands on the command line.
struct DevicesArguments {
  std::string device_id;
  std::string name;
  std::string port;
  uint32_t baud = 115200;
  uint32_t data_bits = 8;
  std::string parity = "none";
  std::string stop_bits = "1";
  std::string flow_control = "none";
  std::string websocket;     // add: HOST:PORT of a Wi-Fi terminal instead of --port
  std::string ws_path;       // add: its WebSocket path (default /)
  std::string terminal_id;   // add: the id it announces (default: the device id)
  bool tls = false;          // add: wss://
  bool follow_discovery = false;  // add: a Wi-Fi terminal with no fixed address
  bool watch = false;        // discover: keep printing changes until interrupted
  std::string reason;
  std::string request_id;
  std::string file;
  bool include_payload = false;
  uint64_t count = 0;        // trace: stop after this many entries (0: until interrupted)
  std::string duration;      // trace: stop after this long (empty: until interrupted)
  std::string kinds;         // trace: frame,message,link
  int32_t max_entries = 0;   // dump
};

// Adds `devices` and its verbs to `app`; see admin_commands.h for the
// pattern. `arguments` and `command` must outlive `app`.
void AddDevicesCommands(CLI::App& app, DevicesArguments& arguments, Command& command);

}  // namespace posd::posctl
