#include "service/posctl/hooks_commands.h"

#include <iostream>
#include <optional>

#include "google/protobuf/util/time_util.h"
#include "posd/v1/audit.grpc.pb.h"
#include "posd/v1/hooks.grpc.pb.h"
#include "service/posctl/resource_output.h"

namespace posd::posctl {
namespace {

using google::protobuf::util::TimeUtil;

// "afterPayment", "after-payment", "AFTER_PAYMENT" -> "AFTER_PAYMENT": the
// names DESIGN.md and the configuration use, and the API's.
std::string EnumWord(const std::string& text) {
  std::string word;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
        std::islower(static_cast<unsigned char>(text[i - 1]))) {
      word.push_back('_');
    }
    word.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return word;
}

std::string Time(const google::protobuf::Timestamp& timestamp) {
  return TimeUtil::ToString(timestamp);
}

std::string Subject(const posd::v1::HookRun& run) {
  if (!run.order_id().empty()) return run.order_id();
  if (!run.payment_id().empty()) return run.payment_id();
  return run.refund_id();
}

// The enum value's name without its type prefix: "AFTER_PAYMENT".
std::string Bare(std::string name, std::string_view prefix) {
  if (name.rfind(prefix, 0) == 0) name.erase(0, prefix.size());
  return name;
}

// "hook_01...  AFTER_PAYMENT receipt  pay_01...  SUCCEEDED  attempts 1/10"
std::string Summary(const posd::v1::HookRun& run) {
  std::string line = run.id() + "  " + Bare(posd::v1::HookPoint_Name(run.hook_point()), "HOOK_POINT_") +
                     " " + run.plugin() + "  " + Subject(run) + "  " +
                     Bare(posd::v1::HookRunState_Name(run.state()), "HOOK_RUN_STATE_") + "  attempts " +
                     std::to_string(run.attempts()) + "/" + std::to_string(run.max_attempts());
  if (run.has_next_attempt_at()) line += "  next " + Time(run.next_attempt_at());
  if (!run.last_error().empty()) line += "  last error: " + run.last_error();
  return line;
}

int PrintRun(CliContext& context, const posd::v1::HookRun& run) {
  context.Print(run);
  return kExitOk;
}

int List(CliContext& context, const HooksArguments& arguments) {
  posd::v1::ListHookRunsRequest request;
  for (const auto& name : arguments.states) {
    posd::v1::HookRunState state;
    if (!posd::v1::HookRunState_Parse("HOOK_RUN_STATE_" + EnumWord(name), &state) ||
        state == posd::v1::HOOK_RUN_STATE_UNSPECIFIED) {
      std::cerr << "posctl: '" << name
                << "' is not a hook run state (pending, running, succeeded, failed, "
                   "retry_scheduled, abandoned)\n";
      return kExitUsage;
    }
    request.add_states(state);
  }
  if (!arguments.hook_point.empty()) {
    posd::v1::HookPoint point;
    if (!posd::v1::HookPoint_Parse("HOOK_POINT_" + EnumWord(arguments.hook_point), &point) ||
        point == posd::v1::HOOK_POINT_UNSPECIFIED) {
      std::cerr << "posctl: '" << arguments.hook_point
                << "' is not a hook point (afterOrder, afterPayment, onPaymentFailed, "
                   "afterRefund)\n";
      return kExitUsage;
    }
    request.set_hook_point(point);
  }
  request.set_plugin(arguments.plugin);
  request.set_subject_id(arguments.subject_id);
  request.set_page_size(arguments.page_size);
  request.set_page_token(arguments.page_token);
  posd::v1::ListHookRunsResponse response;
  const auto call = context.NewCall();
  const grpc::Status status =
      posd::v1::HookService::NewStub(context.Channel())->ListHookRuns(call.get(), request, &response);
  if (!status.ok()) return context.Fail(status, "hooks list");
  if (context.output() == OutputFormat::kJson) {
    context.Print(response);
    return kExitOk;
  }
  for (const auto& run : response.hook_runs()) std::cout << Summary(run) << "\n";
  if (!response.next_page_token().empty()) {
    std::cout << "# more: --page-token " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int Show(CliContext& context, const std::string& id) {
  posd::v1::GetHookRunRequest request;
  request.set_hook_run_id(id);
  posd::v1::HookRun run;
  const auto call = context.NewCall();
  const grpc::Status status =
      posd::v1::HookService::NewStub(context.Channel())->GetHookRun(call.get(), request, &run);
  if (!status.ok()) return context.Fail(status, "hooks show");
  return PrintRun(context, run);
}

int Retry(CliContext& context, const HooksArguments& arguments) {
  posd::v1::RetryHookRunRequest request;
  request.set_request_id(arguments.request_id.empty() ? NewRequestId() : arguments.request_id);
  request.set_hook_run_id(arguments.run_id);
  request.set_reason(arguments.reason);
  posd::v1::HookRun run;
  const auto call = NewChangeCall(context);
  const grpc::Status status =
      posd::v1::HookService::NewStub(context.Channel())->RetryHookRun(call.get(), request, &run);
  if (!status.ok()) return context.Fail(status, "hooks retry");
  if (context.output() == OutputFormat::kJson) {
    context.Print(run);
  } else {
    std::cout << Summary(run) << "\n";
  }
  return kExitOk;
}

std::optional<google::protobuf::Timestamp> ParseTime(const std::string& text, const char* flag) {
  google::protobuf::Timestamp timestamp;
  if (!TimeUtil::FromString(text, &timestamp)) {
    std::cerr << "posctl: " << flag << " '" << text
              << "' is not an RFC 3339 time such as 2026-01-31T12:00:00Z\n";
    return std::nullopt;
  }
  return timestamp;
}

// "aud_...  2026-...Z  SUCCEEDED  REFUND_PAYMENT payment pay_...  by anna (unix socket)
// [OPERATOR]  request r-1  reason: ...", and for a refusal "  error: ..." at the end.
std::string Summary(const posd::v1::AuditRecord& record) {
  std::string action = posd::v1::AuditAction_Name(record.action());
  action.erase(0, std::string_view("AUDIT_ACTION_").size());
  std::string outcome = posd::v1::AuditOutcome_Name(record.outcome());
  outcome.erase(0, std::string_view("AUDIT_OUTCOME_").size());
  std::string line = record.id() + "  " + Time(record.occurred_at()) + "  " + outcome + "  " +
                     action + " " + record.subject_type();
  if (!record.subject_id().empty()) line += " " + record.subject_id();
  std::string role = posd::v1::Role_Name(record.actor().role());
  role.erase(0, std::string_view("ROLE_").size());
  line += "  by " + record.actor().principal() + " [" + role + "]";
  if (!record.request_id().empty()) line += "  request " + record.request_id();
  if (!record.reason().empty()) line += "  reason: " + record.reason();
  if (!record.error_message().empty()) line += "  error: " + record.error_message();
  return line;
}

int AuditList(CliContext& context, const AuditArguments& arguments) {
  posd::v1::ListAuditRecordsRequest request;
  for (const auto& name : arguments.actions) {
    posd::v1::AuditAction action;
    if (!posd::v1::AuditAction_Parse("AUDIT_ACTION_" + EnumWord(name), &action) ||
        action == posd::v1::AUDIT_ACTION_UNSPECIFIED) {
      std::cerr << "posctl: '" << name
                << "' is not an audit action (e.g. refund_payment, resolve_payment, "
                   "set_log_level, retry_hook_run)\n";
      return kExitUsage;
    }
    request.add_actions(action);
  }
  if (!arguments.outcome.empty()) {
    posd::v1::AuditOutcome outcome;
    if (!posd::v1::AuditOutcome_Parse("AUDIT_OUTCOME_" + EnumWord(arguments.outcome), &outcome) ||
        outcome == posd::v1::AUDIT_OUTCOME_UNSPECIFIED) {
      std::cerr << "posctl: --outcome '" << arguments.outcome
                << "' is not an audit outcome (succeeded or refused)\n";
      return kExitUsage;
    }
    request.set_outcome(outcome);
  }
  request.set_subject_id(arguments.subject_id);
  request.set_principal(arguments.principal);
  if (!arguments.since.empty()) {
    auto since = ParseTime(arguments.since, "--since");
    if (!since) return kExitUsage;
    *request.mutable_occurred_after() = *since;
  }
  if (!arguments.until.empty()) {
    auto until = ParseTime(arguments.until, "--until");
    if (!until) return kExitUsage;
    *request.mutable_occurred_before() = *until;
  }
  request.set_page_size(arguments.page_size);
  request.set_page_token(arguments.page_token);
  posd::v1::ListAuditRecordsResponse response;
  const auto call = context.NewCall();
  const grpc::Status status = posd::v1::AuditService::NewStub(context.Channel())
                                  ->ListAuditRecords(call.get(), request, &response);
  if (!status.ok()) return context.Fail(status, "audit list");
  if (context.output() == OutputFormat::kJson) {
    context.Print(response);
    return kExitOk;
  }
  for (const auto& record : response.audit_records()) std::cout << Summary(record) << "\n";
  if (!response.next_page_token().empty()) {
    std::cout << "# more: --page-token " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddHooksCommands(CLI::App& app, HooksArguments& arguments, Command& command) {
  auto* hooks = app.add_subcommand("hooks", "after-hook runs of the plugins: list, show, retry");
  hooks->require_subcommand(1);

  auto* list = hooks->add_subcommand("list", "hook runs, newest first");
  list->add_option("--state", arguments.states,
                   "only runs in this state (repeatable): pending, running, succeeded, failed, "
                   "retry_scheduled, abandoned");
  list->add_option("--hook-point", arguments.hook_point,
                   "only this point: afterOrder, afterPayment, onPaymentFailed, afterRefund");
  list->add_option("--plugin", arguments.plugin, "only this plugin's runs");
  list->add_option("--subject", arguments.subject_id, "only runs about this order, payment or refund");
  list->add_option("--page-size", arguments.page_size, "runs per page (default 50)");
  list->add_option("--page-token", arguments.page_token, "from the previous page");
  list->callback([&] { command = [&](CliContext& c) { return List(c, arguments); }; });

  auto* show = hooks->add_subcommand("show", "one hook run");
  show->add_option("id", arguments.run_id, "hook run id")->required();
  show->callback([&] { command = [&](CliContext& c) { return Show(c, arguments.run_id); }; });

  auto* retry = hooks->add_subcommand(
      "retry", "run a FAILED, ABANDONED or RETRY_SCHEDULED hook run again now (operator, audited)");
  retry->add_option("id", arguments.run_id, "hook run id")->required();
  retry->add_option("--reason", arguments.reason, "why (audited)");
  retry->add_option("--request-id", arguments.request_id, "idempotency key; reuse it to retry");
  retry->callback([&] { command = [&](CliContext& c) { return Retry(c, arguments); }; });
}

void AddAuditCommands(CLI::App& app, AuditArguments& arguments, Command& command) {
  auto* audit =
      app.add_subcommand("audit", "the audit log of operator actions, refused ones included");
  audit->require_subcommand(1);

  auto* list = audit->add_subcommand("list", "audit records, newest first (operator or fleet)");
  list->add_option("--action", arguments.actions,
                   "only this action (repeatable), e.g. refund_payment, resolve_payment, "
                   "set_log_level, retry_hook_run");
  list->add_option("--subject", arguments.subject_id, "only records about this id");
  list->add_option("--principal", arguments.principal, "only records by this person or token");
  list->add_option("--since", arguments.since, "only records at or after this RFC 3339 time");
  list->add_option("--until", arguments.until, "only records before this RFC 3339 time");
  list->add_option("--outcome", arguments.outcome,
                   "only records with this outcome: succeeded or refused");
  list->add_option("--page-size", arguments.page_size, "records per page (default 50)");
  list->add_option("--page-token", arguments.page_token, "from the previous page");
  list->callback([&] { command = [&](CliContext& c) { return AuditList(c, arguments); }; });
}

}  // namespace posd::posctl
