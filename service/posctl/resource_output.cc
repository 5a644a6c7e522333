#include "service/posctl/resource_output.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <random>

#include "service/common/strings.h"
#include "service/core/money.h"

namespace posd::posctl {
namespace {

std::string Suffix(const std::string& name, std::string_view prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

}  // namespace

std::optional<posd::v1::Money> ParseAmount(const std::string& text, const std::string& currency) {
  auto code = core::CurrencyCode::Parse(currency);
  if (!code.ok()) {
    std::cerr << "posctl: " << code.status().message() << "\n";
    return std::nullopt;
  }
  auto money = core::Money::Parse(text, *code);
  if (!money.ok()) {
    std::cerr << "posctl: " << money.status().message() << "\n";
    return std::nullopt;
  }
  posd::v1::Money result;
  result.set_amount_minor(money->minor_units());
  result.set_currency_code(std::string(code->code()));
  return result;
}

std::string FormatMoney(const posd::v1::Money& money) {
  auto code = core::CurrencyCode::Parse(money.currency_code());
  if (!code.ok()) return StrCat(money.amount_minor(), " (minor units)");
  return core::Money(money.amount_minor(), *code).ToString();
}

std::string NewRequestId() {
  std::random_device device;
  std::mt19937_64 random(device());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "posctl-";
  for (int i = 0; i < 24; ++i) id.push_back(kHex[random() % 16]);
  return id;
}

std::unique_ptr<grpc::ClientContext> NewChangeCall(const CliContext& context, bool streaming) {
  auto call = context.NewCall();
  if (streaming) call->set_deadline(std::chrono::system_clock::time_point::max());
  const char* user = std::getenv("USER");
  if (user == nullptr) user = getlogin();
  if (user != nullptr && *user != '\0') call->AddMetadata("posd-actor", user);
  return call;
}

std::string Summary(const posd::v1::Order& order) {
  return StrCat(order.id(), "  ", Suffix(posd::v1::OrderStatus_Name(order.status()), "ORDER_STATUS_"),
                "  total ", FormatMoney(order.total()), "  due ", FormatMoney(order.amount_due()),
                order.external_reference().empty() ? "" : StrCat("  ref ", order.external_reference()));
}

std::string Summary(const posd::v1::Payment& payment) {
  return StrCat(payment.id(), "  ",
                Suffix(posd::v1::PaymentStatus_Name(payment.status()), "PAYMENT_STATUS_"), "  ",
                FormatMoney(payment.amount()),
                payment.tip().amount_minor() != 0 ? StrCat(" + tip ", FormatMoney(payment.tip()))
                                                  : "",
                "  on ", payment.device_id(),
                payment.order_id().empty() ? "" : StrCat("  order ", payment.order_id()),
                payment.failure_reason().empty() ? "" : StrCat("  (", payment.failure_reason(), ")"));
}

std::string Summary(const posd::v1::Refund& refund) {
  return StrCat(refund.id(), "  ",
                Suffix(posd::v1::RefundStatus_Name(refund.status()), "REFUND_STATUS_"), "  ",
                FormatMoney(refund.amount()), "  of ", refund.payment_id(),
                refund.failure_reason().empty() ? "" : StrCat("  (", refund.failure_reason(), ")"));
}

std::string Summary(const posd::v1::Event& event) {
  std::string what;
  if (event.has_order()) what = Summary(event.order());
  if (event.has_payment()) what = Summary(event.payment());
  if (event.has_refund()) what = Summary(event.refund());
  if (event.has_payment_progress()) {
    const auto& progress = event.payment_progress();
    what = StrCat(progress.payment_id(), "  ",
                  Suffix(posd::v1::TerminalStage_Name(progress.stage()), "TERMINAL_STAGE_"),
                  progress.display_message().empty() ? "" : StrCat("  \"", progress.display_message(), "\""));
  }
  if (event.has_device()) {
    const auto& device = event.device();
    what = StrCat(device.id(), "  ", Suffix(posd::v1::DeviceState_Name(device.state()), "DEVICE_STATE_"),
                  device.state_reason() == posd::v1::DEVICE_STATE_REASON_UNSPECIFIED
                      ? ""
                      : StrCat("  ", Suffix(posd::v1::DeviceStateReason_Name(device.state_reason()),
                                            "DEVICE_STATE_REASON_")),
                  device.state_detail().empty() ? "" : StrCat("  (", device.state_detail(), ")"));
  }
  if (event.has_hook_run()) {
    what = StrCat(event.hook_run().idempotency_key(), "  ",
                  Suffix(posd::v1::HookRunState_Name(event.hook_run().state()), "HOOK_RUN_STATE_"));
  }
  return StrCat(event.sequence(), "  ", Suffix(posd::v1::EventKind_Name(event.kind()), "EVENT_KIND_"),
                "  ", what);
}

}  // namespace posd::posctl
