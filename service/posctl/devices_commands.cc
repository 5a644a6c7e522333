#include "service/posctl/devices_commands.h"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "posd/v1/devices.grpc.pb.h"

namespace posd::posctl {
namespace {

using google::protobuf::util::TimeUtil;

std::string NewRequestId() {
  std::random_device device;
  std::mt19937_64 random(device());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "posctl-";
  for (int i = 0; i < 24; ++i) id.push_back(kHex[random() % 16]);
  return id;
}

std::string Strip(const std::string& name, std::string_view prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

std::string StateOf(const posd::v1::Device& d) {
  return Strip(posd::v1::DeviceState_Name(d.state()), "DEVICE_STATE_");
}

std::string ReasonOf(posd::v1::DeviceStateReason reason) {
  return reason == posd::v1::DEVICE_STATE_REASON_UNSPECIFIED
             ? "-"
             : Strip(posd::v1::DeviceStateReason_Name(reason), "DEVICE_STATE_REASON_");
}

std::string Json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// "21:14:03.512  #41  -> FRAME    DATA        seq=3 epoch=... 48B  ..."
std::string TraceLine(const posd::v1::TraceEntry& e) {
  std::ostringstream line;
  const int64_t ms = TimeUtil::TimestampToMilliseconds(e.occurred_at());
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  char clock[16];
  std::strftime(clock, sizeof(clock), "%H:%M:%S", &local);
  line << clock << "." << std::setw(3) << std::setfill('0') << (ms % 1000) << std::setfill(' ');
  line << "  #" << e.entry_number();
  if (e.dropped_before() > 0) line << " (" << e.dropped_before() << " dropped)";
  const char* arrow = e.direction() == posd::v1::TRACE_DIRECTION_OUTBOUND  ? "->"
                      : e.direction() == posd::v1::TRACE_DIRECTION_INBOUND ? "<-"
                                                                           : "--";
  const std::string kind = e.kind() == posd::v1::TRACE_KIND_FRAME     ? "FRAME"
                           : e.kind() == posd::v1::TRACE_KIND_MESSAGE ? "MESSAGE"
                                                                      : "LINK";
  line << "  " << arrow << " " << std::left << std::setw(8) << kind << std::setw(14) << e.type();
  if (e.kind() == posd::v1::TRACE_KIND_FRAME) line << " seq=" << e.frame_sequence();
  if (e.message_id() != 0) line << " id=" << e.message_id();
  if (e.correlation_id() != 0) line << " re=" << e.correlation_id();
  if (!e.transaction_id().empty()) line << " tx=" << e.transaction_id();
  if (e.size_bytes() != 0) line << " " << e.size_bytes() << "B";
  if (e.retries() != 0) line << " retries=" << e.retries();
  if (e.has_latency()) {
    line << " " << std::fixed << std::setprecision(1)
         << static_cast<double>(TimeUtil::DurationToMicroseconds(e.latency())) / 1000.0 << "ms";
  }
  if (!e.summary().empty()) line << "  " << e.summary();
  if (!e.error().empty()) line << "  ERROR: " << e.error();
  return line.str();
}

// "10.0.0.5:8080"; a device following discovery shows where it last
// connected, "(discovery)" before it found its terminal.
std::string WiFiPort(const posd::v1::Device& d) {
  if (!d.websocket().host().empty()) {
    return d.websocket().host() + ":" + std::to_string(d.websocket().port());
  }
  return d.websocket().last_address().empty() ? "(discovery)"
                                              : d.websocket().last_address() + " (discovery)";
}

int List(CliContext& context) {
  auto stub = posd::v1::DeviceService::NewStub(context.Channel());
  posd::v1::ListDevicesRequest request;
  request.set_page_size(500);
  posd::v1::ListDevicesResponse response;
  const auto call = context.NewCall();
  const grpc::Status status = stub->ListDevices(call.get(), request, &response);
  if (!status.ok()) return context.Fail(status, "devices list");
  if (context.output() == OutputFormat::kJson) {
    context.Print(response);
    return kExitOk;
  }
  // Columns as wide as their longest value, two spaces apart.
  std::vector<std::array<std::string, 6>> rows = {{"ID", "NAME", "STATE", "REASON", "PORT", "DETAIL"}};
  for (const auto& d : response.devices()) {
    rows.push_back({d.id(), d.display_name().empty() ? "-" : d.display_name(), StateOf(d),
                    ReasonOf(d.state_reason()),
                    d.has_serial() ? d.serial().port() : d.has_websocket() ? WiFiPort(d) : "-",
                    d.state_detail()});
  }
  std::array<size_t, 6> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      std::cout << std::left << std::setw(static_cast<int>(width[i] + 2)) << row[i];
    }
    std::cout << row.back() << "\n";
  }
  if (response.devices().empty()) std::cout << "(no devices registered)\n";
  return kExitOk;
}

int Show(CliContext& context, const std::string& id) {
  auto stub = posd::v1::DeviceService::NewStub(context.Channel());
  posd::v1::GetDeviceRequest request;
  request.set_device_id(id);
  posd::v1::Device device;
  const auto call = context.NewCall();
  const grpc::Status status = stub->GetDevice(call.get(), request, &device);
  if (!status.ok()) return context.Fail(status, "devices show");
  context.Print(device);
  return kExitOk;
}

int Add(CliContext& context, const DevicesArguments& a) {
  posd::v1::CreateDeviceRequest request;
  request.set_request_id(a.request_id.empty() ? NewRequestId() : a.request_id);
  request.set_device_id(a.device_id);
  auto* device = request.mutable_device();
  device->set_display_name(a.name);
  if (int(!a.websocket.empty()) + int(!a.port.empty()) + int(a.follow_discovery) != 1) {
    std::cerr << "posctl: devices add needs one of --port (serial), --websocket HOST:PORT or "
                 "--follow-discovery\n";
    return kExitUsage;
  }
  if (a.follow_discovery) {
    // No address: posd connects wherever the terminal id is announced.
    auto* ws = device->mutable_websocket();
    ws->set_path(a.ws_path);
    ws->set_terminal_id(a.terminal_id);
    ws->set_tls(a.tls);
  } else if (!a.websocket.empty()) {
    auto* ws = device->mutable_websocket();
    const size_t colon = a.websocket.rfind(':');
    uint32_t port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::string_view(a.websocket).substr(colon + 1), &port)) {
      std::cerr << "posctl: --websocket: '" << a.websocket << "' is not HOST:PORT\n";
      return kExitUsage;
    }
    std::string host = a.websocket.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    ws->set_host(host);
    ws->set_port(port);
    ws->set_path(a.ws_path);
    ws->set_terminal_id(a.terminal_id);
    ws->set_tls(a.tls);
  } else {
  auto* serial = device->mutable_serial();
  serial->set_port(a.port);
  serial->set_baud_rate(a.baud);
  serial->set_data_bits(a.data_bits);
  static const std::map<std::string, posd::v1::Parity> kParity = {
      {"none", posd::v1::PARITY_NONE}, {"odd", posd::v1::PARITY_ODD},
      {"even", posd::v1::PARITY_EVEN}, {"mark", posd::v1::PARITY_MARK},
      {"space", posd::v1::PARITY_SPACE}};
  static const std::map<std::string, posd::v1::FlowControl> kFlow = {
      {"none", posd::v1::FLOW_CONTROL_NONE}, {"rtscts", posd::v1::FLOW_CONTROL_RTS_CTS},
      {"dtrdsr", posd::v1::FLOW_CONTROL_DTR_DSR}, {"xonxoff", posd::v1::FLOW_CONTROL_XON_XOFF}};
  serial->set_parity(kParity.at(a.parity));
  serial->set_stop_bits(a.stop_bits == "2" ? posd::v1::STOP_BITS_TWO : posd::v1::STOP_BITS_ONE);
  serial->set_flow_control(kFlow.at(a.flow_control));
  }
  auto stub = posd::v1::DeviceService::NewStub(context.Channel());
  posd::v1::Device created;
  const auto call = context.NewCall();
  const grpc::Status status = stub->CreateDevice(call.get(), request, &created);
  if (!status.ok()) return context.Fail(status, "devices add");
  context.Print(created);
  return kExitOk;
}

int Remove(CliContext& context, const DevicesArguments& a) {
  posd::v1::DeleteDeviceRequest request;
  request.set_request_id(a.request_id.empty() ? NewRequestId() : a.request_id);
  request.set_device_id(a.device_id);
  request.set_reason(a.reason);
  auto stub = posd::v1::DeviceService::NewStub(context.Channel());
  google::protobuf::Empty empty;
  const auto call = context.NewCall();
  const grpc::Status status = stub->DeleteDevice(call.get(), request, &empty);
  if (!status.ok()) return context.Fail(status, "devices remove");
  if (context.output() == OutputFormat::kJson) {
    std::cout << "{}\n";
  } else {
    std::cout << "device " << a.device_id << " removed\n";
  }
  return kExitOk;
}

int Trace(CliContext& context, const DevicesArguments& a) {
  posd::v1::TraceDeviceRequest request;
  request.set_device_id(a.device_id);
  request.set_include_payload(a.include_payload);
  std::stringstream kinds(a.kinds);
  for (std::string kind; std::getline(kinds, kind, ',');) {
    if (kind == "frame") request.add_kinds(posd::v1::TRACE_KIND_FRAME);
    if (kind == "message") request.add_kinds(posd::v1::TRACE_KIND_MESSAGE);
    if (kind == "link") request.add_kinds(posd::v1::TRACE_KIND_LINK_EVENT);
  }
  auto stub = posd::v1::DeviceService::NewStub(context.Channel());
  auto call = context.NewCall();
  // A trace runs until interrupted, or for --duration: not for --timeout.
  absl::Duration duration = absl::Hours(24 * 365);
  if (!a.duration.empty() && !absl::ParseDuration(a.duration, &duration)) {
    std::cerr << "posctl: --duration '" << a.duration << "' is not a duration such as 10s\n";
    return kExitUsage;
  }
  call->set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(absl::ToInt64Milliseconds(duration)));
  auto reader = stub->TraceDevice(call.get(), request);
  posd::v1::TraceEntry entry;
  uint64_t seen = 0;
  while (reader->Read(&entry)) {
    if (context.output() == OutputFormat::kJson) {
      std::cout << Json(entry) << "\n";
    } else {
      std::cout << TraceLine(entry) << "\n";
    }
    std::cout.flush();
    if (a.count != 0 && ++seen >= a.count) {
      call->TryCancel();
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (status.ok() || status.error_code() == grpc::StatusCode::CANCELLED ||
      (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && !a.duration.empty())) {
    return kExitOk;
  }
  return context.Fail(status, "devices trace");
}

std::string DiscoveryTypeOf(posd::v1::DiscoveryEventType type) {
  return Strip(posd::v1::DiscoveryEventType_Name(type), "DISCOVERY_EVENT_TYPE_");
}

std::string SourceOf(posd::v1::DiscoverySource source) {
  return source == posd::v1::DISCOVERY_SOURCE_DNS_SD  ? "dns-sd"
         : source == posd::v1::DISCOVERY_SOURCE_BEACON ? "beacon"
                                                       : "-";
}

std::array<std::string, 6> DiscoveryRow(const posd::v1::DiscoveryEvent& e) {
  const bool v6 = e.address().find(':') != std::string::npos;
  return {e.terminal_id(),
          e.instance_name().empty() ? "-" : e.instance_name(),
          (v6 ? "[" + e.address() + "]" : e.address()) + ":" + std::to_string(e.port()),
          std::to_string(e.protocol_version()),
          SourceOf(e.source()),
          e.device_id().empty() ? "-" : e.device_id()};
}

void PrintTable(const std::vector<std::array<std::string, 6>>& rows) {
  std::array<size_t, 6> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      std::cout << std::left << std::setw(static_cast<int>(width[i] + 2)) << row[i];
    }
    std::cout << row.back() << "\n";
  }
}

// Without --watch: the terminals visible now, as a table (or one JSON object
// per terminal), then exit. With --watch: that list, then one line per
// change until interrupted.
int Discover(CliContext& context, const DevicesArguments& a) {
  posd::v1::DiscoverDevicesRequest request;
  request.set_include_current(true);
  auto stub = posd::v1::DeviceService::NewStub(context.Channel());
  auto call = context.NewCall();
  if (a.watch) {
    call->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(24 * 365));
  }
  auto reader = stub->DiscoverDevices(call.get(), request);
  const bool json = context.output() == OutputFormat::kJson;
  bool problems_shown = false;
  auto show_problems = [&] {
    if (problems_shown) return;
    problems_shown = true;
    const auto& metadata = call->GetServerInitialMetadata();
    auto range = metadata.equal_range("posd-discovery-problem");
    for (auto it = range.first; it != range.second; ++it) {
      std::cerr << "posctl: warning: discovery: "
                << std::string(it->second.data(), it->second.size()) << "\n";
    }
  };
  std::vector<std::array<std::string, 6>> rows = {
      {"TERMINAL", "INSTANCE", "ADDRESS", "PROTOCOL", "SOURCE", "DEVICE"}};
  bool listed = false;
  posd::v1::DiscoveryEvent event;
  while (reader->Read(&event)) {
    show_problems();
    if (event.type() == posd::v1::DISCOVERY_EVENT_TYPE_CURRENT_LISTED) {
      listed = true;
      if (!json) {
        PrintTable(rows);
        if (rows.size() == 1) std::cout << "(no terminals announce themselves)\n";
      }
      std::cout.flush();
      if (!a.watch) {
        call->TryCancel();
        break;
      }
      continue;
    }
    if (json) {
      std::cout << Json(event) << "\n";
    } else if (!listed) {
      rows.push_back(DiscoveryRow(event));
    } else {
      const auto row = DiscoveryRow(event);
      std::cout << DiscoveryTypeOf(event.type()) << "  " << row[0] << "  " << row[2] << "  "
                << row[4] << "  device " << row[5] << "\n";
    }
    std::cout.flush();
  }
  const grpc::Status status = reader->Finish();
  if (listed && (status.ok() || status.error_code() == grpc::StatusCode::CANCELLED)) {
    return kExitOk;
  }
  return context.Fail(status, "devices discover");
}

int Dump(CliContext& context, const DevicesArguments& a) {
  posd::v1::DumpFlightRecorderRequest request;
  request.set_device_id(a.device_id);
  request.set_max_entries(a.max_entries);
  request.set_include_payload(a.include_payload);
  auto stub = posd::v1::DeviceService::NewStub(context.Channel());
  posd::v1::DumpFlightRecorderResponse response;
  const auto call = context.NewCall();
  const grpc::Status status = stub->DumpFlightRecorder(call.get(), request, &response);
  if (!status.ok()) return context.Fail(status, "devices dump");
  std::ofstream out(a.file, std::ios::trunc);
  if (!out) {
    std::cerr << "posctl: cannot write " << a.file << "\n";
    return kExitUsage;
  }
  const bool json = context.output() == OutputFormat::kJson;
  if (!json) {
    out << "# flight recorder of device " << response.device_id() << ", dumped "
        << TimeUtil::ToString(response.dumped_at()) << ": " << response.entries_size()
        << " entries (holds at most " << response.capacity() << "), oldest first\n";
  }
  for (const auto& entry : response.entries()) out << (json ? Json(entry) : TraceLine(entry)) << "\n";
  out.close();
  if (!out) {
    std::cerr << "posctl: writing " << a.file << " failed\n";
    return kExitUsage;
  }
  std::cout << "wrote " << response.entries_size() << " entries of device " << a.device_id
            << " to " << a.file << "\n";
  return kExitOk;
}

}  // namespace

void AddDevicesCommands(CLI::App& app, DevicesArguments& a, Command& command) {
  auto* devices = app.add_subcommand("devices", "payment terminals and their links");
  devices->require_subcommand(1);

  devices->add_subcommand("list", "list terminals with their state")->callback([&] {
    command = List;
  });

  auto* show = devices->add_subcommand("show", "one terminal with its link statistics");
  show->add_option("id", a.device_id, "device id")->required();
  show->callback([&] { command = [&](CliContext& c) { return Show(c, a.device_id); }; });

  auto* add = devices->add_subcommand("add", "register a serial or Wi-Fi terminal (operator)");
  add->add_option("--id", a.device_id, "device id, e.g. counter-1")->required();
  add->add_option("--name", a.name, "name shown to staff");
  add->add_option("--port", a.port, "serial port, e.g. /dev/ttyUSB0");
  add->add_option("--websocket", a.websocket,
                  "instead of --port: HOST:PORT of a Wi-Fi terminal's WebSocket server");
  add->add_option("--ws-path", a.ws_path, "with --websocket: its path (default /)");
  add->add_option("--terminal-id", a.terminal_id,
                  "with --websocket: the id it announces (default: --id)");
  add->add_flag("--tls", a.tls, "with --websocket: connect with TLS (wss://)");
  add->add_flag("--follow-discovery", a.follow_discovery,
                "instead of --port or --websocket: a Wi-Fi terminal with no fixed address, "
                "reached wherever its --terminal-id is announced");
  add->add_option("--baud", a.baud, "bits per second")->capture_default_str();
  add->add_option("--data-bits", a.data_bits, "5 to 8")->capture_default_str();
  add->add_option("--parity", a.parity, "none, odd, even, mark or space")
      ->check(CLI::IsMember({"none", "odd", "even", "mark", "space"}))
      ->capture_default_str();
  add->add_option("--stop-bits", a.stop_bits, "1 or 2")
      ->check(CLI::IsMember({"1", "2"}))
      ->capture_default_str();
  add->add_option("--flow-control", a.flow_control, "none, rtscts, dtrdsr or xonxoff")
      ->check(CLI::IsMember({"none", "rtscts", "dtrdsr", "xonxoff"}))
      ->capture_default_str();
  add->add_option("--request-id", a.request_id, "idempotency key");
  add->callback([&] { command = [&](CliContext& c) { return Add(c, a); }; });

  auto* remove = devices->add_subcommand("remove", "forget a terminal added with add (operator)");
  remove->add_option("id", a.device_id, "device id")->required();
  remove->add_option("--reason", a.reason, "why, for the audit log");
  remove->add_option("--request-id", a.request_id, "idempotency key");
  remove->callback([&] { command = [&](CliContext& c) { return Remove(c, a); }; });

  auto* trace = devices->add_subcommand(
      "trace", "print every frame and message on a terminal's link as it happens");
  trace->add_option("id", a.device_id, "device id")->required();
  trace->add_option("--kinds", a.kinds, "comma-separated: frame,message,link (default: all)");
  trace->add_option("--count", a.count, "stop after this many entries");
  trace->add_option("--duration", a.duration, "stop after this long, e.g. 30s");
  trace->add_flag("--payload", a.include_payload, "include raw bytes (JSON output)");
  trace->callback([&] { command = [&](CliContext& c) { return Trace(c, a); }; });

  auto* discover = devices->add_subcommand(
      "discover", "list the terminals announcing themselves on the network (DNS-SD, beacon)");
  discover->add_flag("--watch", a.watch, "then print every change until interrupted");
  discover->callback([&] { command = [&](CliContext& c) { return Discover(c, a); }; });

  auto* dump = devices->add_subcommand(
      "dump", "write the link's flight recorder (its last frames and messages) to a file");
  dump->add_option("id", a.device_id, "device id")->required();
  dump->add_option("--file", a.file, "output file")->required();
  dump->add_option("--max-entries", a.max_entries, "only the most recent N (default: all)");
  dump->add_flag("--payload", a.include_payload, "include raw bytes (JSON output)");
  dump->callback([&] { command = [&](CliContext& c) { return Dump(c, a); }; });
}

}  // namespace posd::posctl
