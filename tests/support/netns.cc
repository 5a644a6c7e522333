#include "tests/support/netns.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;

bool OnPath(const char* tool) {
  return RunCommand({"sh", "-c", absl::StrCat("command -v ", tool)}, 5s).exit_code == 0;
}

absl::Status Run(const std::vector<std::string>& argv) {
  const CommandResult result = RunCommand(argv, 15s);
  if (result.exit_code == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(absl::StrJoin(argv, " "), " failed (", result.exit_code, "): ", result.err));
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

std::string NetworkTestsUnavailable() {
  if (geteuid() != 0) return "needs root (network namespaces, a private avahi-daemon)";
  for (const char* tool : {"ip", "dbus-daemon", "avahi-daemon"}) {
    if (!OnPath(tool)) return absl::StrCat(tool, " is not installed");
  }
  return "";
}

absl::StatusOr<std::unique_ptr<NetNamespace>> NetNamespace::Create(std::string_view tag) {
  static std::atomic<int> counter{0};
  std::string name = absl::StrCat("posd-", std::string(tag), "-", getpid(), "-", counter++);
  if (absl::Status made = Run({"ip", "netns", "add", name}); !made.ok()) return made;
  auto ns = std::unique_ptr<NetNamespace>(new NetNamespace(std::move(name)));
  if (absl::Status up = ns->Ip({"link", "set", "lo", "up"}); !up.ok()) return up;
  if (absl::Status mc = ns->Ip({"link", "set", "lo", "multicast", "on"}); !mc.ok()) return mc;
  return ns;
}

NetNamespace::~NetNamespace() { RunCommand({"ip", "netns", "del", name_}, 15s); }

absl::Status NetNamespace::Ip(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"ip", "-n", name_};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

std::vector<std::string> NetNamespace::Wrap(const std::vector<std::string>& argv) const {
  std::vector<std::string> wrapped = {"ip", "netns", "exec", name_};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

absl::Status ConnectWithVeth(const NetNamespace& a, std::string_view a_device,
                             std::string_view a_cidr, const NetNamespace& b,
                             std::string_view b_device, std::string_view b_cidr) {
  // Created inside `a` with its peer moved straight into `b`: the pair never
  // exists in the machine's own namespace.
  if (absl::Status made = a.Ip({"link", "add", std::string(a_device), "type", "veth", "peer",
                                "name", std::string(b_device), "netns", b.name()});
      !made.ok()) {
    return made;
  }
  for (const auto& [ns, device, cidr] :
       {std::tuple{&a, a_device, a_cidr}, std::tuple{&b, b_device, b_cidr}}) {
    if (absl::Status s = ns->Ip({"addr", "add", std::string(cidr), "dev", std::string(device)});
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ns->Ip({"link", "set", std::string(device), "multicast", "on", "up"});
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PrivateAvahi>> PrivateAvahi::Start(
    const NetNamespace& ns, const std::filesystem::path& dir,
    const std::vector<std::string>& interfaces, std::string_view host_name,
    const std::filesystem::path& bus_socket) {
  std::filesystem::create_directories(dir / "run");
  const std::filesystem::path socket = bus_socket.empty() ? dir / "dbus.sock" : bus_socket;
  // A socket file left by an earlier bus on the same path.
  std::filesystem::remove(socket);
  WriteFile(dir / "dbus.conf",
            absl::StrCat(R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=)",
                         socket.string(), R"(</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
</busconfig>
)"));
  WriteFile(dir / "avahi-daemon.conf",
            absl::StrCat("[server]\nhost-name=", std::string(host_name),
                         "\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=",
                         absl::StrJoin(interfaces, ","),
                         "\nenable-dbus=yes\nratelimit-interval-usec=0\nratelimit-burst=0\n"
                         "[wide-area]\nenable-wide-area=no\n"
                         "[publish]\npublish-workstation=no\npublish-hinfo=no\n"
                         "publish-addresses=yes\npublish-aaaa-on-ipv4=no\n"
                         "publish-a-on-ipv6=no\n[reflector]\nenable-reflector=no\n"));
  auto avahi = std::unique_ptr<PrivateAvahi>(
      new PrivateAvahi(ns, dir, absl::StrCat("unix:path=", socket.string())));
  avahi->bus_.emplace(Subprocess::Start(
      {"dbus-daemon", "--config-file=" + (dir / "dbus.conf").string(), "--nofork", "--nopidfile"},
      dir));
  if (!WaitUntil([&] { return std::filesystem::exists(socket) || !avahi->bus_->Running(); },
                 10s) ||
      !avahi->bus_->Running()) {
    return absl::UnavailableError(
        absl::StrCat("dbus-daemon did not start: ", avahi->bus_->Stderr()));
  }
  if (absl::Status started = avahi->StartDaemon(); !started.ok()) return started;
  return avahi;
}

absl::Status PrivateAvahi::StartDaemon() {
  // `ip netns exec` gives the command a mount namespace of its own, so the
  // bind mount of a private /run (where avahi-daemon keeps its pid file and
  // socket) is seen by this daemon only.
  const std::string script = absl::StrCat("mount --bind '", (dir_ / "run").string(),
                                          "' /run && exec avahi-daemon -f '",
                                          (dir_ / "avahi-daemon.conf").string(),
                                          "' --no-chroot --no-drop-root --no-rlimits");
  std::filesystem::remove_all(dir_ / "run" / "avahi-daemon");
  const std::filesystem::path log_dir = dir_ / absl::StrCat("avahi-", daemon_starts_++);
  std::filesystem::create_directories(log_dir);
  daemon_.emplace(Subprocess::Start(ns_.Wrap({"sh", "-c", script}), log_dir, {env()}));
  const bool up = WaitUntil(
      [&] {
        return !daemon_->Running() ||
               daemon_->Stderr().find("Server startup complete") != std::string::npos;
      },
      15s);
  if (!up || !daemon_->Running()) {
    return absl::UnavailableError(
        absl::StrCat("avahi-daemon did not start in ", ns_.name(), ": ", daemon_->Stderr()));
  }
  return absl::OkStatus();
}

void PrivateAvahi::StopDaemon() {
  if (!daemon_) return;
  daemon_->Signal(SIGTERM);
  if (!daemon_->WaitForExit(5s)) daemon_->Signal(SIGKILL);
  daemon_->WaitForExit(5s);
}

absl::Status PrivateAvahi::RestartDaemon() {
  StopDaemon();
  return StartDaemon();
}

std::string PrivateAvahi::DaemonLog() const { return daemon_ ? daemon_->Stderr() : ""; }

PrivateAvahi::~PrivateAvahi() {
  StopDaemon();
  daemon_.reset();
  if (bus_) {
    bus_->Signal(SIGTERM);
    bus_->WaitForExit(5s);
  }
}

}  // namespace posd::testing
