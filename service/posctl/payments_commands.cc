#include "service/posctl/payments_commands.h"

#include <iostream>
#include <map>

#include "posd/v1/events.grpc.pb.h"
#include "posd/v1/orders.grpc.pb.h"
#include "posd/v1/payments.grpc.pb.h"
#include "service/posctl/payment_parameters.h"
#include "service/posctl/resource_output.h"

namespace posd::posctl {
namespace {

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

int PrintPayment(CliContext& context, const posd::v1::Payment& payment) {
  if (context.output() == OutputFormat::kJson) {
    context.Print(payment);
    return kExitOk;
  }
  std::cout << Summary(payment) << "\n";
  if (!payment.card().masked_pan().empty() || !payment.card().approval_code().empty()) {
    std::cout << "  card " << payment.card().brand() << " " << payment.card().masked_pan()
              << "  approval " << payment.card().approval_code() << "  reference "
              << payment.card().terminal_reference() << "\n";
  }
  for (const auto& refund : payment.refunds()) std::cout << "  refund " << Summary(refund) << "\n";
  return kExitOk;
}

// How `pay` ends for a payment in `status`, or nullopt while it goes on.
std::optional<int> PayOutcome(posd::v1::PaymentStatus status) {
  switch (status) {
    case posd::v1::PAYMENT_STATUS_APPROVED:
    case posd::v1::PAYMENT_STATUS_PARTIALLY_REFUNDED:
    case posd::v1::PAYMENT_STATUS_REFUNDED: return kExitOk;
    case posd::v1::PAYMENT_STATUS_DECLINED:
    case posd::v1::PAYMENT_STATUS_CANCELED:
    case posd::v1::PAYMENT_STATUS_FAILED: return kExitNegative;
    default: return std::nullopt;
  }
}

int Pay(CliContext& context, const PaymentsArguments& arguments) {
  posd::v1::CreatePaymentRequest request;
  request.set_request_id(arguments.request_id.empty() ? NewRequestId() : arguments.request_id);
  absl::StatusOr<std::map<std::string, std::string>> parameters =
      PaymentParameters(arguments.tip_preset, arguments.params);
  if (!parameters.ok()) {
    std::cerr << "posctl: " << parameters.status().message() << "\n";
    return kExitUsage;
  }
  request.mutable_parameters()->insert(parameters->begin(), parameters->end());
  auto* payment = request.mutable_payment();
  payment->set_order_id(arguments.order_id);
  payment->set_device_id(arguments.device_id);
  std::string currency = arguments.currency;
  posd::v1::Money due;
  if (!arguments.order_id.empty()) {
    posd::v1::GetOrderRequest get;
    get.set_order_id(arguments.order_id);
    posd::v1::Order order;
    const auto call = context.NewCall();
    const grpc::Status status =
        posd::v1::OrderService::NewStub(context.Channel())->GetOrder(call.get(), get, &order);
    if (!status.ok()) return context.Fail(status, "pay");
    currency = order.currency_code();
    due = order.amount_due();
  } else if (arguments.amount.empty()) {
    std::cerr << "posctl: pay needs --order or --amount\n";
    return kExitUsage;
  }
  if (currency.empty()) currency = "EUR";
  if (!arguments.amount.empty()) {
    auto amount = ParseAmount(arguments.amount, currency);
    if (!amount) return kExitUsage;
    *payment->mutable_amount() = *amount;
  } else {
    *payment->mutable_amount() = due;
  }
  if (!arguments.tip.empty()) {
    auto tip = ParseAmount(arguments.tip, currency);
    if (!tip) return kExitUsage;
    *payment->mutable_tip() = *tip;
  }
  posd::v1::Payment created;
  {
    const auto call = NewChangeCall(context);
    const grpc::Status status = posd::v1::PaymentService::NewStub(context.Channel())
                                    ->CreatePayment(call.get(), request, &created);
    if (!status.ok()) return context.Fail(status, "pay");
  }
  std::cout << Summary(created) << std::endl;
  if (auto outcome = PayOutcome(created.status())) return *outcome;

  // Follow the payment from the version we got: nothing after it is missed.
  posd::v1::WatchEventsRequest watch;
  watch.set_since_sequence(created.last_event_sequence());
  watch.mutable_filter()->set_payment_id(created.id());
  const auto call = NewChangeCall(context, /*streaming=*/true);
  auto reader = posd::v1::EventService::NewStub(context.Channel())->WatchEvents(call.get(), watch);
  posd::v1::Event event;
  while (reader->Read(&event)) {
    if (event.has_payment_progress()) {
      std::cout << "  " << Summary(event) << std::endl;
      continue;
    }
    if (!event.has_payment() || event.payment().id() != created.id()) continue;
    std::cout << Summary(event.payment()) << std::endl;
    if (auto outcome = PayOutcome(event.payment().status())) {
      call->TryCancel();
      return *outcome;
    }
  }
  return context.Fail(reader->Finish(), "pay (following the payment)");
}

int Show(CliContext& context, const std::string& id) {
  posd::v1::GetPaymentRequest request;
  request.set_payment_id(id);
  posd::v1::Payment payment;
  const auto call = context.NewCall();
  const grpc::Status status = posd::v1::PaymentService::NewStub(context.Channel())
                                  ->GetPayment(call.get(), request, &payment);
  if (!status.ok()) return context.Fail(status, "payments show");
  return PrintPayment(context, payment);
}

int List(CliContext& context, const PaymentsArguments& arguments) {
  posd::v1::ListPaymentsRequest request;
  request.set_order_id(arguments.order_id);
  request.set_device_id(arguments.device_id);
  request.set_page_size(arguments.page_size);
  request.set_page_token(arguments.page_token);
  for (const auto& name : arguments.statuses) {
    posd::v1::PaymentStatus status;
    if (!posd::v1::PaymentStatus_Parse("PAYMENT_STATUS_" + Upper(name), &status)) {
      std::cerr << "posctl: '" << name << "' is not a payment status\n";
      return kExitUsage;
    }
    request.add_statuses(status);
  }
  posd::v1::ListPaymentsResponse response;
  const auto call = context.NewCall();
  const grpc::Status status = posd::v1::PaymentService::NewStub(context.Channel())
                                  ->ListPayments(call.get(), request, &response);
  if (!status.ok()) return context.Fail(status, "payments list");
  if (context.output() == OutputFormat::kJson) {
    context.Print(response);
    return kExitOk;
  }
  for (const auto& payment : response.payments()) std::cout << Summary(payment) << "\n";
  if (!response.next_page_token().empty()) {
    std::cout << "# more: --page-token " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int Cancel(CliContext& context, const PaymentsArguments& arguments) {
  posd::v1::CancelPaymentRequest request;
  request.set_request_id(arguments.request_id.empty() ? NewRequestId() : arguments.request_id);
  request.set_payment_id(arguments.payment_id);
  request.set_reason(arguments.reason);
  posd::v1::Payment payment;
  const auto call = NewChangeCall(context);
  const grpc::Status status = posd::v1::PaymentService::NewStub(context.Channel())
                                  ->CancelPayment(call.get(), request, &payment);
  if (!status.ok()) return context.Fail(status, "payments cancel");
  return PrintPayment(context, payment);
}

int Refund(CliContext& context, const PaymentsArguments& arguments) {
  posd::v1::RefundPaymentRequest request;
  request.set_request_id(arguments.request_id.empty() ? NewRequestId() : arguments.request_id);
  request.set_payment_id(arguments.payment_id);
  request.set_reason(arguments.reason);
  request.set_device_id(arguments.device_id);
  if (!arguments.amount.empty()) {
    auto amount = ParseAmount(arguments.amount, arguments.currency.empty() ? "EUR" : arguments.currency);
    if (!amount) return kExitUsage;
    *request.mutable_amount() = *amount;
  }
  posd::v1::Refund refund;
  const auto call = NewChangeCall(context);
  const grpc::Status status = posd::v1::PaymentService::NewStub(context.Channel())
                                  ->RefundPayment(call.get(), request, &refund);
  if (!status.ok()) return context.Fail(status, "payments refund");
  if (context.output() == OutputFormat::kJson) {
    context.Print(refund);
  } else {
    std::cout << Summary(refund) << "\n";
  }
  return kExitOk;
}

int Resolve(CliContext& context, const PaymentsArguments& arguments) {
  if (arguments.approved == arguments.declined) {
    std::cerr << "posctl: say what happened: --approved or --declined\n";
    return kExitUsage;
  }
  posd::v1::ResolvePaymentRequest request;
  request.set_request_id(arguments.request_id.empty() ? NewRequestId() : arguments.request_id);
  request.set_payment_id(arguments.payment_id);
  request.set_outcome(arguments.approved ? posd::v1::RESOLUTION_OUTCOME_APPROVED
                                         : posd::v1::RESOLUTION_OUTCOME_DECLINED);
  request.set_reason(arguments.reason);
  request.set_approval_code(arguments.approval_code);
  request.set_terminal_reference(arguments.terminal_reference);
  posd::v1::Payment payment;
  const auto call = NewChangeCall(context);
  const grpc::Status status = posd::v1::PaymentService::NewStub(context.Channel())
                                  ->ResolvePayment(call.get(), request, &payment);
  if (!status.ok()) return context.Fail(status, "payments resolve");
  return PrintPayment(context, payment);
}

}  // namespace

void AddPaymentsCommands(CLI::App& app, PaymentsArguments& arguments, Command& command) {
  auto* pay = app.add_subcommand(
      "pay", "take a card payment and follow it until it ends (exit 0 approved, 1 not)");
  pay->add_option("--order", arguments.order_id, "the order to pay (default amount: what is due)");
  pay->add_option("--amount", arguments.amount, "amount, e.g. 12.50 (without --order: a quick sale)");
  pay->add_option("--currency", arguments.currency, "ISO 4217 code for a quick sale (default EUR)");
  auto* tip = pay->add_option("--tip", arguments.tip, "tip on top, e.g. 1.50");
  pay->add_option("--tip-preset", arguments.tip_preset,
                  "tip by the tip plugin's preset N (0 = first), instead of --tip")
      ->excludes(tip);
  pay->add_option("--param", arguments.params,
                  "key=value for the plugins' beforePayment hooks (repeatable)");
  pay->add_option("--device", arguments.device_id, "the terminal")->required();
  pay->add_option("--request-id", arguments.request_id, "idempotency key; reuse it to retry");
  pay->callback([&] { command = [&](CliContext& c) { return Pay(c, arguments); }; });

  auto* payments = app.add_subcommand("payments", "list, show, cancel, refund and resolve payments");
  payments->require_subcommand(1);

  auto* list = payments->add_subcommand("list", "list payments, newest first");
  list->add_option("--order", arguments.order_id, "only this order's");
  list->add_option("--device", arguments.device_id, "only this terminal's");
  list->add_option("--status", arguments.statuses, "only this status (repeatable), e.g. in_doubt");
  list->add_option("--page-size", arguments.page_size, "at most this many");
  list->add_option("--page-token", arguments.page_token, "continue a previous list");
  list->callback([&] { command = [&](CliContext& c) { return List(c, arguments); }; });

  auto* show = payments->add_subcommand("show", "show one payment with its refunds");
  show->add_option("id", arguments.payment_id, "payment id")->required();
  show->callback([&] { command = [&](CliContext& c) { return Show(c, arguments.payment_id); }; });

  auto* cancel = payments->add_subcommand("cancel", "ask the terminal to abort a payment");
  cancel->add_option("id", arguments.payment_id, "payment id")->required();
  cancel->add_option("--reason", arguments.reason, "why");
  cancel->add_option("--request-id", arguments.request_id, "idempotency key");
  cancel->callback([&] { command = [&](CliContext& c) { return Cancel(c, arguments); }; });

  auto* refund = payments->add_subcommand("refund", "refund all or part of a payment (operator)");
  refund->add_option("id", arguments.payment_id, "payment id")->required();
  refund->add_option("--amount", arguments.amount, "amount (default: all that remains)");
  refund->add_option("--currency", arguments.currency, "currency of --amount (default EUR)");
  refund->add_option("--reason", arguments.reason, "why (audited)")->required();
  refund->add_option("--device", arguments.device_id, "terminal (default: the payment's)");
  refund->add_option("--request-id", arguments.request_id, "idempotency key");
  refund->callback([&] { command = [&](CliContext& c) { return Refund(c, arguments); }; });

  auto* resolve = payments->add_subcommand(
      "resolve", "settle an IN_DOUBT payment by hand, with evidence (operator, audited)");
  resolve->add_option("id", arguments.payment_id, "payment id")->required();
  resolve->add_flag("--approved", arguments.approved, "the card was charged");
  resolve->add_flag("--declined", arguments.declined, "nothing was charged");
  resolve->add_option("--reason", arguments.reason, "the evidence (audited)")->required();
  resolve->add_option("--approval-code", arguments.approval_code, "from the evidence");
  resolve->add_option("--terminal-reference", arguments.terminal_reference, "from the evidence");
  resolve->add_option("--request-id", arguments.request_id, "idempotency key");
  resolve->callback([&] { command = [&](CliContext& c) { return Resolve(c, arguments); }; });
}

}  // namespace posd::posctl
