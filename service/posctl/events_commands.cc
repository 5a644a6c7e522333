#include "service/posctl/events_commands.h"

#include <iostream>

#include "posd/v1/events.grpc.pb.h"
#include "service/posctl/resource_output.h"

namespace posd::posctl {
namespace {

int Watch(CliContext& context, const EventsArguments& arguments) {
  posd::v1::WatchEventsRequest request;
  if (arguments.since.has_value()) request.set_since_sequence(*arguments.since);
  request.mutable_filter()->set_order_id(arguments.order_id);
  request.mutable_filter()->set_payment_id(arguments.payment_id);
  request.mutable_filter()->set_device_id(arguments.device_id);
  for (std::string kind : arguments.kinds) {
    for (char& c : kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    posd::v1::EventKind value;
    if (!posd::v1::EventKind_Parse("EVENT_KIND_" + kind, &value)) {
      std::cerr << "posctl: '" << kind << "' is not an event kind (e.g. payment_changed)\n";
      return kExitUsage;
    }
    request.mutable_filter()->add_kinds(value);
  }
  const auto call = NewChangeCall(context, /*streaming=*/true);
  auto reader = posd::v1::EventService::NewStub(context.Channel())->WatchEvents(call.get(), request);
  posd::v1::Event event;
  int count = 0;
  while (reader->Read(&event)) {
    if (context.output() == OutputFormat::kJson) {
      context.Print(event);
    } else {
      std::cout << Summary(event) << std::endl;
    }
    if (arguments.limit > 0 && ++count >= arguments.limit) {
      call->TryCancel();
      return kExitOk;
    }
  }
  return context.Fail(reader->Finish(), "events watch");
}

}  // namespace

void AddEventsCommands(CLI::App& app, EventsArguments& arguments, Command& command) {
  auto* events = app.add_subcommand("events", "follow the event log");
  events->require_subcommand(1);
  auto* watch = events->add_subcommand(
      "watch", "print events as they happen; with --since N, first every stored event after N");
  watch->add_option("--since", arguments.since, "resume after this sequence (0: from the start)");
  watch->add_option("--order", arguments.order_id, "only events about this order");
  watch->add_option("--payment", arguments.payment_id, "only events about this payment");
  watch->add_option("--device", arguments.device_id, "only events about this terminal");
  watch->add_option("--kind", arguments.kinds, "only this kind (repeatable), e.g. payment_changed");
  watch->add_option("--limit", arguments.limit, "stop after this many events");
  watch->callback([&] { command = [&](CliContext& c) { return Watch(c, arguments); }; });
}

}  // namespace posd::posctl
