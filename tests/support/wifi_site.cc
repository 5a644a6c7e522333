#include "tests/support/wifi_site.h"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "posd/v1/devices.grpc.pb.h"
#include "tests/support/termsim.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;

// The port from posd-termsim's "WEBSOCKET ip:port" line, 0 until printed.
int PrintedPort(const std::string& out, const std::string& ip) {
  const std::string prefix = absl::StrCat("WEBSOCKET ", ip, ":");
  const size_t at = out.find(prefix);
  if (at == std::string::npos) return 0;
  const size_t end = out.find('\n', at);
  if (end == std::string::npos) return 0;
  return std::atoi(out.substr(at + prefix.size(), end - at - prefix.size()).c_str());
}

}  // namespace

struct WifiSite::Rpc {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<posd::v1::DeviceService::Stub> devices;
};

WifiSite::WifiSite(std::filesystem::path dir, WifiSiteOptions options)
    : dir_(std::move(dir)), options_(std::move(options)), posd_paths_(dir_ / "posd") {}

absl::StatusOr<std::unique_ptr<WifiSite>> WifiSite::Create(const std::filesystem::path& dir,
                                                          WifiSiteOptions options) {
  auto site = std::unique_ptr<WifiSite>(new WifiSite(dir, std::move(options)));
  std::filesystem::create_directories(site->posd_paths_.config.parent_path());
  auto terminals = NetNamespace::Create(site->options_.tag + "t");
  if (!terminals.ok()) return terminals.status();
  site->terminal_ns_ = *std::move(terminals);
  auto pos = NetNamespace::Create(site->options_.tag + "p");
  if (!pos.ok()) return pos.status();
  site->pos_ns_ = *std::move(pos);
  const std::string net = absl::StrCat("10.", site->options_.net, ".0.");
  if (absl::Status linked = ConnectWithVeth(*site->terminal_ns_, "wlan-t", net + "2/24",
                                            *site->pos_ns_, "wlan-p", net + "1/24");
      !linked.ok()) {
    return linked;
  }
  const std::string host = absl::StrCat("posd-site-", site->options_.net);
  auto terminal_avahi =
      PrivateAvahi::Start(*site->terminal_ns_, dir / "avahi-terminals", {"wlan-t"}, host + "-t");
  if (!terminal_avahi.ok()) return terminal_avahi.status();
  site->terminal_avahi_ = *std::move(terminal_avahi);
  auto pos_avahi = PrivateAvahi::Start(*site->pos_ns_, dir / "avahi-pos", {"wlan-p"}, host + "-p");
  if (!pos_avahi.ok()) return pos_avahi.status();
  site->pos_avahi_ = *std::move(pos_avahi);
  return site;
}

WifiSite::~WifiSite() {
  for (auto& [id, terminal] : terminals_) StopTerminal(id, SIGTERM);
  StopPosd();
  rpc_.reset();
  // Daemons before namespaces: their destructors kill them by PID.
  pos_avahi_.reset();
  terminal_avahi_.reset();
  pos_ns_.reset();
  terminal_ns_.reset();
}

std::string WifiSite::Address(int host) const {
  return absl::StrCat("10.", options_.net, ".0.", host);
}

absl::Status WifiSite::StartPosd(const std::string& yaml) {
  WritePosdConfig(posd_paths_, yaml);
  const std::filesystem::path logs = dir_ / absl::StrCat("posd-log-", posd_starts_++);
  std::filesystem::create_directories(logs);
  std::filesystem::remove(posd_paths_.socket);
  posd_.emplace(Subprocess::Start(
      pos_ns_->Wrap({options_.posd_binary, "--config", posd_paths_.config.string()}), logs,
      {pos_avahi_->env()}));
  WaitUntil([&] { return !posd_->Running() || UnixSocketAccepts(posd_paths_.socket); }, 30s);
  if (!posd_->Running()) {
    return absl::UnavailableError(absl::StrCat("posd did not start: ", posd_->Stderr()));
  }
  rpc_ = std::make_unique<Rpc>();
  rpc_->channel = grpc::CreateChannel(posd_paths_.address(), grpc::InsecureChannelCredentials());
  rpc_->devices = posd::v1::DeviceService::NewStub(rpc_->channel);
  return absl::OkStatus();
}

void WifiSite::StopPosd() {
  if (!posd_) return;
  posd_->Signal(SIGTERM);
  if (!posd_->WaitForExit(30s)) posd_->Signal(SIGKILL);
  posd_->WaitForExit(10s);
}

bool WifiSite::PosdRunning() { return posd_ && posd_->Running(); }

std::string WifiSite::PosdLog() { return posd_ ? posd_->Stderr() : ""; }

absl::Status WifiSite::AddTerminalAddress(const std::string& ip) {
  return terminal_ns_->Ip({"addr", "add", ip + "/24", "dev", "wlan-t"});
}

absl::Status WifiSite::RemoveTerminalAddress(const std::string& ip) {
  return terminal_ns_->Ip({"addr", "del", ip + "/24", "dev", "wlan-t"});
}

absl::StatusOr<SiteTerminal*> WifiSite::StartTerminal(const std::string& id,
                                                      const std::string& ip,
                                                      const std::vector<std::string>& extra,
                                                      int port) {
  SiteTerminal& terminal = terminals_[id];
  if (terminal.process && terminal.process->Running()) {
    return absl::FailedPreconditionError(absl::StrCat("terminal ", id, " is running"));
  }
  terminal.id = id;
  terminal.address = ip;
  terminal.control = dir_ / (id + ".control");
  terminal.ledger = dir_ / (id + ".ledger");
  std::filesystem::remove(terminal.control);
  const std::filesystem::path logs = dir_ / absl::StrCat(id, "-log-", ip, "-", port);
  std::filesystem::create_directories(logs);
  std::vector<std::string> argv = {options_.termsim_binary,
                                   "--websocket",
                                   absl::StrCat(ip, ":", port),
                                   "--device-id",
                                   id,
                                   "--ledger",
                                   terminal.ledger.string(),
                                   "--control",
                                   terminal.control.string()};
  // Quick card steps unless the test asks for others.
  if (std::find(extra.begin(), extra.end(), "--step-ms") == extra.end()) {
    argv.insert(argv.end(), {"--step-ms", "20"});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  terminal.process.emplace(
      Subprocess::Start(terminal_ns_->Wrap(argv), logs, {terminal_avahi_->env()}));
  WaitUntil(
      [&] {
        return !terminal.process->Running() ||
               (PrintedPort(terminal.process->Stdout(), ip) != 0 &&
                std::filesystem::exists(terminal.control));
      },
      30s);
  terminal.port = PrintedPort(terminal.process->Stdout(), ip);
  if (!terminal.process->Running() || terminal.port == 0) {
    return absl::UnavailableError(absl::StrCat("posd-termsim ", id, " did not start: ",
                                               terminal.process->Stdout(),
                                               terminal.process->Stderr()));
  }
  return &terminal;
}

void WifiSite::StopTerminal(const std::string& id, int signal_number) {
  SiteTerminal* found = terminal(id);
  if (found == nullptr || !found->process) return;
  found->process->Signal(signal_number);
  if (!found->process->WaitForExit(10s)) found->process->Signal(SIGKILL);
  found->process->WaitForExit(10s);
}

SiteTerminal* WifiSite::terminal(const std::string& id) {
  auto found = terminals_.find(id);
  return found == terminals_.end() ? nullptr : &found->second;
}

std::string WifiSite::Control(const std::string& id, const std::string& command) {
  SiteTerminal* found = terminal(id);
  if (found == nullptr) return "ERR no such terminal";
  return TermsimControl(found->control, command);
}

absl::StatusOr<int> WifiSite::Move(const std::string& id, const std::string& ip) {
  SiteTerminal* found = terminal(id);
  if (found == nullptr) return absl::NotFoundError(id);
  const std::string answer = Control(id, absl::StrCat("move ", ip, ":0"));
  const std::string expected = absl::StrCat("OK moved ", ip, ":");
  if (answer.rfind(expected, 0) != 0) {
    return absl::InternalError(absl::StrCat("move ", id, " to ", ip, ": ", answer));
  }
  found->address = ip;
  found->port = std::atoi(answer.substr(expected.size()).c_str());
  return found->port;
}

absl::StatusOr<posd::v1::Device> WifiSite::GetDevice(const std::string& device_id) {
  if (!rpc_) return absl::FailedPreconditionError("posd is not started");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  posd::v1::GetDeviceRequest request;
  request.set_device_id(device_id);
  posd::v1::Device device;
  const grpc::Status status = rpc_->devices->GetDevice(&context, request, &device);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return device;
}

bool WifiSite::WaitForReady(const std::string& device_id, const std::string& address_port,
                            std::chrono::milliseconds timeout, std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto device = GetDevice(device_id);
    if (device.ok() && device->state() == posd::v1::DEVICE_STATE_READY &&
        (address_port.empty() || device->websocket().last_address() == address_port)) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

CommandResult WifiSite::Posctl(std::vector<std::string> args,
                               std::chrono::milliseconds timeout) {
  args.insert(args.begin(), {options_.posctl_binary, "--address", posd_paths_.address()});
  return RunCommand(args, timeout);
}

}  // namespace posd::testing
