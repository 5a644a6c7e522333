// Start-up steps of the core: configuration, plugins, database, engine.
#include "service/common/strings.h"
#include "service/common/version.h"
#include "service/config/log_level.h"
#include "service/engine/engine.h"
#include "service/engine/plugin_hook_points.h"
#include "service/hooks/hook_chain.h"
#include "service/hooks/outbox_runner.h"
#include "service/hooks/plugin_registry.h"
#include "service/hooks/plugin_set.h"
#include "service/posd/logging.h"
#include "service/posd/paths.h"
#include "service/posd/startup_steps.h"
#include "service/store/store.h"
#include "spdlog/spdlog.h"

namespace posd {
absl::Status LoadConfiguration(DaemonContext& context) {
  const std::string& path = context.options.config_path;
  absl::StatusOr<config::Config> config =
      path.empty() ? config::ParseConfig("", "(defaults)") : config::LoadConfigFile(path);
  if (!config.ok()) return config.status();
  context.config = *std::move(config);
  spdlog::set_level(*config::ParseLogLevel(context.config.logging().level()));
  spdlog::info("posd {} starting (config {})", kVersion,
               path.empty() ? "built-in defaults" : AbsolutePath(path));
  return absl::OkStatus();
}

// Plugins are part of the configuration: one that is unknown or badly set up
// stops posd here, before anything is opened.
absl::Status LoadPluginSet(DaemonContext& context) {
  absl::StatusOr<hooks::PluginSet> plugins = hooks::LoadPlugins(context.config.plugins());
  if (!plugins.ok()) return plugins.status();
  context.plugins = std::make_unique<hooks::PluginSet>(*std::move(plugins));
  for (const auto& loaded : context.plugins->plugins()) {
    spdlog::info("plugin {} enabled", loaded.plugin->name());
  }
  return absl::OkStatus();
}

absl::Status OpenDatabase(DaemonContext& context) {
  auto store = store::Store::Open(
      {.path = context.config.storage().database_path(), .clock = &context.clock});
  if (!store.ok()) return store.status();
  context.store = *std::move(store);
  spdlog::info("database {} at schema version {} (instance {})", AbsolutePath(context.store->path()),
               context.store->schema_version(), context.store->instance_id());
  if (!context.store->migration_backup_path().empty()) {
    spdlog::warn("schema upgraded; the database as it was is kept in {} (restore it to run an "
                 "older posd again)",
                 AbsolutePath(context.store->migration_backup_path()));
  }
  // Closed last of all: after the terminal links, which the engine detached.
  context.stops.Push("close the database", [&context] { context.store.reset(); });
  return absl::OkStatus();
}

// Before-hooks run inside the engine's commands, through the chain (each
// within the time limit); after-hooks run from the outbox on the runner.
absl::Status StartEngine(DaemonContext& context) {
  const config::v1::Hooks& hook_config = context.config.hooks();
  context.hook_chain = std::make_unique<hooks::HookChain>(
      *context.plugins,
      hooks::HookChainOptions{
          .time_limit = std::chrono::milliseconds(hook_config.before_hook_time_limit_ms())});
  context.hook_points = std::make_unique<engine::PluginHookPoints>(*context.hook_chain);
  const hooks::OutboxRunnerOptions outbox_options{
      .initial_backoff = std::chrono::milliseconds(hook_config.after_hook_initial_backoff_ms()),
      .max_backoff = std::chrono::milliseconds(hook_config.after_hook_max_backoff_ms()),
      .max_attempts = static_cast<int>(hook_config.after_hook_max_attempts())};

  // The engine owns the write connection from here on; everything that
  // writes goes through it (the journal too).
  auto engine = engine::Engine::Start({.store = context.store.get(),
                                       .devices = context.devices.get(),
                                       .hooks = context.hook_points.get(),
                                       .clock = &context.clock,
                                       .hook_max_attempts = outbox_options.max_attempts});
  if (!engine.ok()) return engine.status();
  context.engine = *std::move(engine);
  context.stops.Push("stop the engine", [&context] {
    context.engine->Stop();  // finishes queued commands, detaches from the terminals
    context.engine.reset();
  });

  // After the engine, so its recovery ran; Start resumes runs a previous
  // process left pending or cut short, and the engine wakes the runner after
  // every commit that adds runs.
  context.outbox = std::make_unique<hooks::OutboxRunner>(*context.engine, *context.plugins,
                                                         context.clock, outbox_options);
  context.engine->SetHookRunsListener([outbox = context.outbox.get()] { outbox->Wake(); });
  if (absl::Status started = context.outbox->Start(); !started.ok()) {
    context.engine->SetHookRunsListener(nullptr);
    return started;
  }
  context.stops.Push("stop the hook outbox", [&context] {
    // The runner finishes the attempt in progress; a run cut short is
    // resumed at the next start.
    context.outbox->Stop();
    context.engine->SetHookRunsListener(nullptr);
  });
  return absl::OkStatus();
}

}  // namespace posd
