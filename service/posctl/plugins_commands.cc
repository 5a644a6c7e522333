#include "service/posctl/plugins_commands.h"

#include <iostream>

#include "posd/v1/plugins.grpc.pb.h"

namespace posd::posctl {
namespace {

// "tip  enabled #1  beforePayment  Tip presets ...  {"presets_bp":[...]}"
void PrintLine(const posd::v1::Plugin& plugin) {
  std::cout << plugin.name() << "  "
            << (plugin.enabled() ? "enabled #" + std::to_string(plugin.order()) : "disabled");
  for (int i = 0; i < plugin.hook_points_size(); ++i) {
    std::cout << (i == 0 ? "  " : ",") << posd::v1::HookPoint_Name(plugin.hook_points(i));
  }
  std::cout << "  " << plugin.description() << "  " << plugin.config_json() << "\n";
}

int List(CliContext& context) {
  posd::v1::ListPluginsRequest request;
  posd::v1::ListPluginsResponse all;
  do {
    posd::v1::ListPluginsResponse page;
    const auto call = context.NewCall();
    const grpc::Status status =
        posd::v1::PluginService::NewStub(context.Channel())->ListPlugins(call.get(), request, &page);
    if (!status.ok()) return context.Fail(status, "plugins list");
    for (auto& plugin : *page.mutable_plugins()) *all.add_plugins() = std::move(plugin);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  if (context.output() == OutputFormat::kJson) {
    context.Print(all);
    return kExitOk;
  }
  for (const auto& plugin : all.plugins()) PrintLine(plugin);
  return kExitOk;
}

int Show(CliContext& context, const std::string& name) {
  posd::v1::GetPluginRequest request;
  request.set_name(name);
  posd::v1::Plugin plugin;
  const auto call = context.NewCall();
  const grpc::Status status =
      posd::v1::PluginService::NewStub(context.Channel())->GetPlugin(call.get(), request, &plugin);
  if (!status.ok()) return context.Fail(status, "plugins show");
  context.Print(plugin);
  return kExitOk;
}

}  // namespace

void AddPluginsCommands(CLI::App& app, PluginsArguments& arguments, Command& command) {
  auto* plugins = app.add_subcommand("plugins", "the plugins in this posd and their settings");
  plugins->require_subcommand(1);

  auto* list = plugins->add_subcommand("list", "every plugin, enabled ones first in run order");
  list->callback([&] { command = [](CliContext& c) { return List(c); }; });

  auto* show = plugins->add_subcommand("show", "one plugin with its effective settings");
  show->add_option("name", arguments.name, "plugin name")->required();
  show->callback([&] { command = [&](CliContext& c) { return Show(c, arguments.name); }; });
}

}  // namespace posd::posctl
