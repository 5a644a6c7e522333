#include "service/posd/daemon.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <string_view>

#include "service/api/admin_service.h"
#include "service/api/device_auto_add.h"
#include "service/api/device_service.h"
#include "service/api/event_service.h"
#include "service/common/strings.h"
#include "service/devices/device_manager.h"
#include "service/engine/engine.h"
#include "service/engine/plugin_hook_points.h"
#include "service/engine/request_journal.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/outbox_runner.h"
#include "service/hooks/plugin_set.h"
#include "service/posd/discovery_sources.h"
#include "service/posd/http_edge.h"
#include "service/posd/logging.h"
#include "service/posd/startup_steps.h"
#include "service/posd/systemd_notify.h"
#include "service/store/store.h"
#include "spdlog/spdlog.h"

namespace posd {
namespace {

struct StartupStep {
  // How the log names a refusal of this step: "<refused> refused: <why>".
  std::string_view refused;
  absl::Status (*run)(DaemonContext&);
};

// Runs `steps` in order; false, after logging which step refused and why,
// when one fails.
bool RunSteps(std::initializer_list<StartupStep> steps, DaemonContext& context) {
  for (const StartupStep& step : steps) {
    if (absl::Status status = step.run(context); !status.ok()) {
      spdlog::critical("{} refused: {}", step.refused, ToStd(status.message()));
      return false;
    }
  }
  return true;
}

// True when the engine's writer, which every payment goes through, runs a
// (empty) piece of work: a writer stuck on a lock or a dead disk must stop
// the watchdog pings so that systemd restarts posd.
bool EngineResponds(DaemonContext& context) {
  return context.engine->RunWrite([](store::Database&) { return absl::OkStatus(); }).ok();
}

// Blocks until SIGTERM or SIGINT arrives and returns its number. Meanwhile,
// when systemd armed a watchdog, pings it at the interval it asked for, as
// long as the engine responds.
int ServeUntilTerminationSignal(const sigset_t& signals, DaemonContext& context) {
  const std::optional<std::chrono::microseconds> ping_interval = WatchdogPingInterval();
  if (ping_interval.has_value()) {
    spdlog::info("systemd watchdog armed: pinging every {} ms",
                 std::chrono::duration_cast<std::chrono::milliseconds>(*ping_interval).count());
  }
  while (true) {
    if (!ping_interval.has_value()) {
      int signal_number = 0;
      if (sigwait(&signals, &signal_number) == 0) return signal_number;
      continue;
    }
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*ping_interval);
    const timespec timeout{
        .tv_sec = static_cast<time_t>(seconds.count()),
        .tv_nsec = static_cast<long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(*ping_interval - seconds)
                .count())};
    const int signal_number = sigtimedwait(&signals, nullptr, &timeout);
    if (signal_number > 0) return signal_number;
    if (errno == EAGAIN) {
      if (EngineResponds(context)) {
        NotifySystemd("WATCHDOG=1");
      } else {
        spdlog::error("the engine does not respond: watchdog ping withheld");
      }
    }
  }
}

}  // namespace

DaemonContext::DaemonContext(const DaemonOptions& options_in, const Clock& clock_in)
    : options(options_in),
      clock(clock_in),
      started_at(clock_in.WallNow()),
      started_steady(clock_in.Now()) {}

DaemonContext::~DaemonContext() { stops.RunAll(); }

int RunDaemon(const DaemonOptions& options) {
  // Block the termination signals before any thread starts, so that every
  // thread inherits the mask and only sigwait below receives them.
  sigset_t termination_signals;
  sigemptyset(&termination_signals);
  sigaddset(&termination_signals, SIGTERM);
  sigaddset(&termination_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &termination_signals, nullptr);

  SetUpLogging(spdlog::level::info);
  DaemonContext context(options, RealClock::Get());

  // What can be checked without serving: `posd --check-config` stops here.
  if (!RunSteps({{"configuration", LoadConfiguration},
                 {"plugins", LoadPluginSet},
                 {"database", OpenDatabase},
                 {"API listeners", PrepareApiListeners}},
                context)) {
    return kExitStartFailed;
  }
  if (options.check_only) {
    spdlog::info("configuration and database are fine; --check-config: not serving");
    return kExitOk;
  }
  if (!RunSteps({{"terminals", StartTerminals},
                 {"engine", StartEngine},
                 {"discovery", StartDiscovery},
                 {"API services", BuildApiServices},
                 {"API server", ServeApi},
                 {"HTTP edge", StartHttpEdge}},
                context)) {
    return kExitStartFailed;
  }
  NotifySystemd("READY=1\nSTATUS=serving");

  const int signal_number = ServeUntilTerminationSignal(termination_signals, context);
  spdlog::info("{} received: draining calls (up to {} ms)", strsignal(signal_number),
               context.config.server().shutdown_grace_ms());
  NotifySystemd("STOPPING=1\nSTATUS=draining calls");
  context.stops.RunAll();
  spdlog::info("posd stopped cleanly");
  return kExitOk;
}

}  // namespace posd
