#include "service/posctl/orders_commands.h"

#include <iostream>

#include "posd/v1/orders.grpc.pb.h"
#include "service/posctl/resource_output.h"

namespace posd::posctl {
namespace {

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

int PrintOrder(CliContext& context, const posd::v1::Order& order) {
  if (context.output() == OutputFormat::kJson) {
    context.Print(order);
    return kExitOk;
  }
  std::cout << Summary(order) << "\n";
  for (const auto& line : order.lines()) {
    std::cout << "  " << line.quantity() << " x " << line.sku()
              << (line.name().empty() ? "" : " (" + line.name() + ")") << " @ "
              << FormatMoney(line.unit_price()) << "\n";
  }
  for (const auto& discount : order.discounts()) {
    std::cout << "  discount " << discount.coupon_code() << " -" << FormatMoney(discount.amount())
              << " by " << discount.plugin()
              << (discount.description().empty() ? "" : " (" + discount.description() + ")")
              << "\n";
  }
  for (const auto& payment : order.payments()) {
    std::cout << "  payment " << payment.payment_id() << " "
              << posd::v1::PaymentStatus_Name(payment.status()).substr(15) << " "
              << FormatMoney(payment.amount()) << "\n";
  }
  return kExitOk;
}

int Create(CliContext& context, const OrdersArguments& arguments) {
  posd::v1::CreateOrderRequest request;
  request.set_request_id(arguments.request_id.empty() ? NewRequestId() : arguments.request_id);
  auto* order = request.mutable_order();
  order->set_currency_code(arguments.currency);
  order->set_external_reference(arguments.reference);
  order->set_note(arguments.note);
  for (const auto& code : arguments.coupons) order->add_coupon_codes(code);
  for (const auto& text : arguments.lines) {
    // SKU:QTY:PRICE[:NAME]
    std::vector<std::string> parts;
    size_t start = 0;
    while (parts.size() < 3) {
      const size_t colon = text.find(':', start);
      if (colon == std::string::npos) break;
      parts.push_back(text.substr(start, colon - start));
      start = colon + 1;
    }
    parts.push_back(text.substr(start));
    if (parts.size() < 3) {
      std::cerr << "posctl: --line '" << text << "' is not SKU:QTY:PRICE[:NAME]\n";
      return kExitUsage;
    }
    auto price = ParseAmount(parts[2], arguments.currency);
    if (!price) return kExitUsage;
    auto* line = order->add_lines();
    line->set_sku(parts[0]);
    line->set_quantity(std::atoi(parts[1].c_str()));
    *line->mutable_unit_price() = *price;
    // The API requires a name; a line typed without one is named by its SKU.
    line->set_name(parts.size() > 3 ? parts[3] : parts[0]);
  }
  auto stub = posd::v1::OrderService::NewStub(context.Channel());
  posd::v1::Order created;
  {
    const auto call = NewChangeCall(context);
    const grpc::Status status = stub->CreateOrder(call.get(), request, &created);
    if (!status.ok()) return context.Fail(status, "orders create");
  }
  if (arguments.place) {
    posd::v1::PlaceOrderRequest place;
    place.set_request_id(request.request_id() + "-place");
    place.set_order_id(created.id());
    const auto call = NewChangeCall(context);
    const grpc::Status status = stub->PlaceOrder(call.get(), place, &created);
    if (!status.ok()) return context.Fail(status, "orders place");
  }
  return PrintOrder(context, created);
}

int Show(CliContext& context, const std::string& id) {
  posd::v1::GetOrderRequest request;
  request.set_order_id(id);
  posd::v1::Order order;
  const auto call = context.NewCall();
  const grpc::Status status =
      posd::v1::OrderService::NewStub(context.Channel())->GetOrder(call.get(), request, &order);
  if (!status.ok()) return context.Fail(status, "orders show");
  return PrintOrder(context, order);
}

int List(CliContext& context, const OrdersArguments& arguments) {
  posd::v1::ListOrdersRequest request;
  request.set_page_size(arguments.page_size);
  request.set_page_token(arguments.page_token);
  for (const auto& name : arguments.statuses) {
    posd::v1::OrderStatus status;
    if (!posd::v1::OrderStatus_Parse("ORDER_STATUS_" + Upper(name), &status)) {
      std::cerr << "posctl: '" << name << "' is not an order status\n";
      return kExitUsage;
    }
    request.add_statuses(status);
  }
  posd::v1::ListOrdersResponse response;
  const auto call = context.NewCall();
  const grpc::Status status =
      posd::v1::OrderService::NewStub(context.Channel())->ListOrders(call.get(), request, &response);
  if (!status.ok()) return context.Fail(status, "orders list");
  if (context.output() == OutputFormat::kJson) {
    context.Print(response);
    return kExitOk;
  }
  for (const auto& order : response.orders()) std::cout << Summary(order) << "\n";
  if (!response.next_page_token().empty()) {
    std::cout << "# more: --page-token " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int Place(CliContext& context, const OrdersArguments& arguments) {
  posd::v1::PlaceOrderRequest request;
  request.set_request_id(arguments.request_id.empty() ? NewRequestId() : arguments.request_id);
  request.set_order_id(arguments.order_id);
  posd::v1::Order order;
  const auto call = NewChangeCall(context);
  const grpc::Status status =
      posd::v1::OrderService::NewStub(context.Channel())->PlaceOrder(call.get(), request, &order);
  if (!status.ok()) return context.Fail(status, "orders place");
  return PrintOrder(context, order);
}

int Cancel(CliContext& context, const OrdersArguments& arguments) {
  posd::v1::CancelOrderRequest request;
  request.set_request_id(arguments.request_id.empty() ? NewRequestId() : arguments.request_id);
  request.set_order_id(arguments.order_id);
  request.set_reason(arguments.reason);
  posd::v1::Order order;
  const auto call = NewChangeCall(context);
  const grpc::Status status =
      posd::v1::OrderService::NewStub(context.Channel())->CancelOrder(call.get(), request, &order);
  if (!status.ok()) return context.Fail(status, "orders cancel");
  return PrintOrder(context, order);
}

}  // namespace

void AddOrdersCommands(CLI::App& app, OrdersArguments& arguments, Command& command) {
  auto* orders = app.add_subcommand("orders", "create, show, list, place and cancel orders");
  orders->require_subcommand(1);

  auto* create = orders->add_subcommand("create", "create an order (and place it with --place)");
  create->add_option("--currency", arguments.currency, "ISO 4217 code")->capture_default_str();
  create->add_option("--line", arguments.lines, "a line as SKU:QTY:PRICE[:NAME] (NAME defaults to SKU), repeatable");
  create->add_option("--coupon", arguments.coupons,
                     "a coupon code for the discount plugin, repeatable");
  create->add_option("--reference", arguments.reference, "external reference, e.g. a table");
  create->add_option("--note", arguments.note, "free note");
  create->add_flag("--place", arguments.place, "place the order at once so it can be paid");
  create->add_option("--request-id", arguments.request_id, "idempotency key");
  create->callback([&] { command = [&](CliContext& c) { return Create(c, arguments); }; });

  auto* show = orders->add_subcommand("show", "show one order");
  show->add_option("id", arguments.order_id, "order id")->required();
  show->callback([&] { command = [&](CliContext& c) { return Show(c, arguments.order_id); }; });

  auto* list = orders->add_subcommand("list", "list orders, newest first");
  list->add_option("--status", arguments.statuses, "only this status (repeatable), e.g. placed");
  list->add_option("--page-size", arguments.page_size, "at most this many");
  list->add_option("--page-token", arguments.page_token, "continue a previous list");
  list->callback([&] { command = [&](CliContext& c) { return List(c, arguments); }; });

  auto* place = orders->add_subcommand("place", "freeze an open order so it can be paid");
  place->add_option("id", arguments.order_id, "order id")->required();
  place->add_option("--request-id", arguments.request_id, "idempotency key");
  place->callback([&] { command = [&](CliContext& c) { return Place(c, arguments); }; });

  auto* cancel = orders->add_subcommand("cancel", "cancel an order that has no approved payment");
  cancel->add_option("id", arguments.order_id, "order id")->required();
  cancel->add_option("--reason", arguments.reason, "why");
  cancel->add_option("--request-id", arguments.request_id, "idempotency key");
  cancel->callback([&] { command = [&](CliContext& c) { return Cancel(c, arguments); }; });
}

}  // namespace posd::posctl
