#include "tests/integration/api/bad_input_cases.h"

#include <algorithm>
#include <functional>
#include <set>

#include "google/protobuf/descriptor.h"
#include "posd/v1/admin.pb.h"
#include "posd/v1/audit.pb.h"
#include "posd/v1/devices.pb.h"
#include "posd/v1/events.pb.h"
#include "posd/v1/hooks.pb.h"
#include "posd/v1/payments.pb.h"
#include "posd/v1/plugins.pb.h"

namespace posd::testing {
namespace {

using grpc::StatusCode;
using posd::v1::ErrorReason;

const std::string kHuge(100 * 1024, 'a');      // 100 KB
const std::string kCutEmoji = "tea \xF0\x9F\x8D";  // a 4-byte emoji cut after 3 bytes
constexpr char kBlank[] = "   \t ";
constexpr int kNoSuchEnumValue = 999;

// Builds the cases of one method from a valid request and a change to it.
template <typename Request>
class MethodCases {
 public:
  MethodCases(std::vector<BadCall>& out, std::string method, Request valid)
      : out_(out), method_(std::move(method)), valid_(std::move(valid)) {}

  // A case: `valid` changed by `spoil`, expected to fail with `code` and
  // `reason`, naming `field`.
  MethodCases& Case(std::string label, const std::function<void(Request&)>& spoil,
                    std::string field, StatusCode code = StatusCode::INVALID_ARGUMENT,
                    ErrorReason reason = posd::v1::ERROR_REASON_INVALID_FIELD) {
    Request request = valid_;
    spoil(request);
    out_.push_back(BadCall{std::move(label), method_, request.SerializeAsString(), code, reason,
                           std::move(field)});
    return *this;
  }

  // Bytes that are not the request message at all.
  MethodCases& Bytes(std::string label, std::string bytes) {
    out_.push_back(BadCall{std::move(label), method_, std::move(bytes),
                           StatusCode::INVALID_ARGUMENT, posd::v1::ERROR_REASON_INVALID_FIELD,
                           "request"});
    return *this;
  }

 private:
  std::vector<BadCall>& out_;
  std::string method_;
  Request valid_;
};

template <typename Request>
MethodCases<Request> For(std::vector<BadCall>& out, std::string method, Request valid) {
  return MethodCases<Request>(out, std::move(method), std::move(valid));
}

posd::v1::Money Eur(int64_t minor) {
  posd::v1::Money money;
  money.set_amount_minor(minor);
  money.set_currency_code("EUR");
  return money;
}

void AddOrderCases(std::vector<BadCall>& out, const Fixtures& f) {
  posd::v1::CreateOrderRequest create;
  create.set_request_id("bad-create");
  create.mutable_order()->set_currency_code("EUR");
  auto* line = create.mutable_order()->add_lines();
  line->set_sku("tea");
  line->set_name("Tea");
  line->set_quantity(1);
  *line->mutable_unit_price() = Eur(250);
  using Create = posd::v1::CreateOrderRequest;
  For(out, "/posd.v1.OrderService/CreateOrder", create)
      .Case("no request id", [](Create& r) { r.clear_request_id(); }, "request_id")
      .Case("request id of 100 KB", [](Create& r) { r.set_request_id(kHuge); }, "request_id")
      .Case("request id with spaces", [](Create& r) { r.set_request_id("a b"); }, "request_id")
      .Case("no order", [](Create& r) { r.clear_order(); }, "order")
      .Case("unknown currency", [](Create& r) { r.mutable_order()->set_currency_code("ZZZ"); },
            "order.currency_code")
      .Case("no currency", [](Create& r) { r.mutable_order()->clear_currency_code(); },
            "order.currency_code")
      .Case("line without a name",
            [](Create& r) { r.mutable_order()->mutable_lines(0)->clear_name(); },
            "order.lines[0].name")
      .Case("line name of 100 KB",
            [](Create& r) { r.mutable_order()->mutable_lines(0)->set_name(kHuge); },
            "order.lines[0].name")
      .Case("blank sku", [](Create& r) { r.mutable_order()->mutable_lines(0)->set_sku(kBlank); },
            "order.lines[0].sku")
      .Case("quantity 0", [](Create& r) { r.mutable_order()->mutable_lines(0)->set_quantity(0); },
            "order.lines[0].quantity")
      .Case("line without a price",
            [](Create& r) { r.mutable_order()->mutable_lines(0)->clear_unit_price(); },
            "order.lines[0].unit_price")
      .Case("negative price",
            [](Create& r) { *r.mutable_order()->mutable_lines(0)->mutable_unit_price() = Eur(-1); },
            "order.lines[0].unit_price.amount_minor")
      .Case("price near 2^63",
            [](Create& r) {
              *r.mutable_order()->mutable_lines(0)->mutable_unit_price() =
                  Eur(INT64_MAX - 5);
            },
            "order.lines[0].unit_price.amount_minor")
      .Case("price without a currency",
            [](Create& r) {
              r.mutable_order()->mutable_lines(0)->mutable_unit_price()->clear_currency_code();
            },
            "order.lines[0].unit_price.currency_code")
      .Case("coupon code of 100 KB",
            [](Create& r) { r.mutable_order()->add_coupon_codes(kHuge); },
            "order.coupon_codes[0]")
      .Case("external reference of 100 KB",
            [](Create& r) { r.mutable_order()->set_external_reference(kHuge); },
            "order.external_reference")
      .Case("note with a cut emoji", [](Create& r) { r.mutable_order()->set_note(kCutEmoji); },
            "order.note")
      .Case("line name with a cut emoji",
            [](Create& r) { r.mutable_order()->mutable_lines(0)->set_name(kCutEmoji); },
            "order.lines.name");

  using Get = posd::v1::GetOrderRequest;
  Get get;
  get.set_order_id(f.order_id);
  For(out, "/posd.v1.OrderService/GetOrder", get)
      .Case("empty id", [](Get& r) { r.clear_order_id(); }, "order_id")
      .Case("id of 100 KB", [](Get& r) { r.set_order_id(kHuge); }, "order_id")
      .Case("id with a slash", [](Get& r) { r.set_order_id("ord_1/../2"); }, "order_id")
      .Case("id with a cut emoji", [](Get& r) { r.set_order_id(kCutEmoji); }, "order_id");

  using List = posd::v1::ListOrdersRequest;
  For(out, "/posd.v1.OrderService/ListOrders", List())
      .Case("negative page size", [](List& r) { r.set_page_size(-1); }, "page_size")
      .Case("truncated page token",
            [&f](List& r) {
              r.set_page_size(1);
              r.set_page_token(f.order_page_token.substr(0, f.order_page_token.size() - 1));
            },
            "page_token", StatusCode::INVALID_ARGUMENT, posd::v1::ERROR_REASON_INVALID_PAGE_TOKEN)
      .Case("status that does not exist",
            [](List& r) { r.add_statuses(static_cast<posd::v1::OrderStatus>(kNoSuchEnumValue)); },
            "statuses[0]")
      .Case("unspecified status", [](List& r) { r.add_statuses(posd::v1::ORDER_STATUS_UNSPECIFIED); },
            "statuses[0]")
      .Case("timestamp after year 9999",
            [](List& r) { r.mutable_created_after()->set_seconds(400'000'000'000); },
            "created_after.seconds")
      .Case("negative nanos", [](List& r) { r.mutable_created_before()->set_nanos(-1); },
            "created_before.nanos");

  using Update = posd::v1::UpdateOrderRequest;
  Update update;
  update.set_request_id("bad-update");
  update.mutable_order()->set_id(f.order_id);
  update.mutable_update_mask()->add_paths("note");
  For(out, "/posd.v1.OrderService/UpdateOrder", update)
      .Case("no request id", [](Update& r) { r.clear_request_id(); }, "request_id")
      .Case("no mask", [](Update& r) { r.clear_update_mask(); }, "update_mask")
      .Case("note of 100 KB", [](Update& r) { r.mutable_order()->set_note(kHuge); },
            "order.note");

  using Place = posd::v1::PlaceOrderRequest;
  Place place;
  place.set_request_id("bad-place");
  place.set_order_id(f.order_id);
  For(out, "/posd.v1.OrderService/PlaceOrder", place)
      .Case("empty id", [](Place& r) { r.clear_order_id(); }, "order_id")
      .Case("no request id", [](Place& r) { r.clear_request_id(); }, "request_id");

  using Cancel = posd::v1::CancelOrderRequest;
  Cancel cancel;
  cancel.set_request_id("bad-cancel");
  cancel.set_order_id(f.order_id);
  For(out, "/posd.v1.OrderService/CancelOrder", cancel)
      .Case("blank reason", [](Cancel& r) { r.set_reason(kBlank); }, "reason")
      .Case("reason of 100 KB", [](Cancel& r) { r.set_reason(kHuge); }, "reason")
      .Case("empty id", [](Cancel& r) { r.clear_order_id(); }, "order_id");
}

void AddPaymentCases(std::vector<BadCall>& out, const Fixtures& f) {
  using Create = posd::v1::CreatePaymentRequest;
  Create create;
  create.set_request_id("bad-pay");
  create.mutable_payment()->set_order_id(f.order_id);
  create.mutable_payment()->set_device_id("counter-1");
  *create.mutable_payment()->mutable_amount() = Eur(350);
  For(out, "/posd.v1.PaymentService/CreatePayment", create)
      .Case("no payment", [](Create& r) { r.clear_payment(); }, "payment")
      .Case("order id with a slash", [](Create& r) { r.mutable_payment()->set_order_id("ord/1"); },
            "payment.order_id")
      .Case("no amount", [](Create& r) { r.mutable_payment()->clear_amount(); }, "payment.amount")
      .Case("negative amount", [](Create& r) { *r.mutable_payment()->mutable_amount() = Eur(-5); },
            "payment.amount.amount_minor")
      .Case("amount without a currency",
            [](Create& r) { r.mutable_payment()->mutable_amount()->clear_currency_code(); },
            "payment.amount.currency_code")
      .Case("tip near 2^63",
            [](Create& r) { *r.mutable_payment()->mutable_tip() = Eur(INT64_MAX - 100); },
            "payment.tip.amount_minor")
      .Case("device id with capitals", [](Create& r) { r.mutable_payment()->set_device_id("Counter-1"); },
            "payment.device_id")
      .Case("17 parameters",
            [](Create& r) {
              for (int i = 0; i < 17; ++i) (*r.mutable_parameters())["k" + std::to_string(i)] = "v";
            },
            "parameters")
      .Case("parameter key with a space",
            [](Create& r) { (*r.mutable_parameters())["tip preset"] = "1"; }, "parameters key")
      .Case("parameter value of 100 KB",
            [](Create& r) { (*r.mutable_parameters())["tip.preset"] = kHuge; },
            "parameters[\"tip.preset\"]");

  using Get = posd::v1::GetPaymentRequest;
  For(out, "/posd.v1.PaymentService/GetPayment", Get())
      .Case("empty id", [](Get&) {}, "payment_id")
      .Case("id of 100 KB", [](Get& r) { r.set_payment_id(kHuge); }, "payment_id");

  using List = posd::v1::ListPaymentsRequest;
  For(out, "/posd.v1.PaymentService/ListPayments", List())
      .Case("negative page size", [](List& r) { r.set_page_size(-5); }, "page_size")
      .Case("garbage page token", [](List& r) { r.set_page_token("abc:def"); }, "page_token",
            StatusCode::INVALID_ARGUMENT, posd::v1::ERROR_REASON_INVALID_PAGE_TOKEN)
      .Case("status that does not exist",
            [](List& r) { r.add_statuses(static_cast<posd::v1::PaymentStatus>(kNoSuchEnumValue)); },
            "statuses[0]")
      .Case("device id with spaces", [](List& r) { r.set_device_id("counter 1"); }, "device_id");

  using Cancel = posd::v1::CancelPaymentRequest;
  Cancel cancel;
  cancel.set_request_id("bad-cancel-pay");
  cancel.set_payment_id("pay_01HF7YAT00V3DQ4XK2M8E9R6ZB");
  For(out, "/posd.v1.PaymentService/CancelPayment", cancel)
      .Case("blank reason", [](Cancel& r) { r.set_reason(kBlank); }, "reason")
      .Case("empty id", [](Cancel& r) { r.clear_payment_id(); }, "payment_id");

  using Refund = posd::v1::RefundPaymentRequest;
  Refund refund;
  refund.set_request_id("bad-refund");
  refund.set_payment_id("pay_01HF7YAT00V3DQ4XK2M8E9R6ZB");
  refund.set_reason("wrong item");
  For(out, "/posd.v1.PaymentService/RefundPayment", refund)
      .Case("no reason", [](Refund& r) { r.clear_reason(); }, "reason")
      .Case("blank reason", [](Refund& r) { r.set_reason(kBlank); }, "reason")
      .Case("negative amount", [](Refund& r) { *r.mutable_amount() = Eur(-1); },
            "amount.amount_minor")
      .Case("amount in a made-up currency",
            [](Refund& r) {
              *r.mutable_amount() = Eur(100);
              r.mutable_amount()->set_currency_code("EURO");
            },
            "amount.currency_code");

  using Resolve = posd::v1::ResolvePaymentRequest;
  Resolve resolve;
  resolve.set_request_id("bad-resolve");
  resolve.set_payment_id("pay_01HF7YAT00V3DQ4XK2M8E9R6ZB");
  resolve.set_outcome(posd::v1::RESOLUTION_OUTCOME_APPROVED);
  resolve.set_reason("slip shows approval");
  For(out, "/posd.v1.PaymentService/ResolvePayment", resolve)
      .Case("no outcome", [](Resolve& r) { r.clear_outcome(); }, "outcome")
      .Case("outcome that does not exist",
            [](Resolve& r) { r.set_outcome(static_cast<posd::v1::ResolutionOutcome>(7)); },
            "outcome")
      .Case("reason of spaces", [](Resolve& r) { r.set_reason(kBlank); }, "reason")
      .Case("approval code of 100 KB", [](Resolve& r) { r.set_approval_code(kHuge); },
            "approval_code");

  using ResolveRefund = posd::v1::ResolveRefundRequest;
  ResolveRefund resolve_refund;
  resolve_refund.set_request_id("bad-resolve-refund");
  resolve_refund.set_refund_id("ref_01HF7YAT00V3DQ4XK2M8E9R6ZB");
  resolve_refund.set_outcome(posd::v1::RESOLUTION_OUTCOME_DECLINED);
  resolve_refund.set_reason("terminal says declined");
  For(out, "/posd.v1.PaymentService/ResolveRefund", resolve_refund)
      .Case("empty id", [](ResolveRefund& r) { r.clear_refund_id(); }, "refund_id")
      .Case("no reason", [](ResolveRefund& r) { r.clear_reason(); }, "reason")
      .Case("terminal reference with a cut emoji",
            [](ResolveRefund& r) { r.set_terminal_reference(kCutEmoji); }, "terminal_reference");
}

void AddDeviceCases(std::vector<BadCall>& out) {
  using List = posd::v1::ListDevicesRequest;
  For(out, "/posd.v1.DeviceService/ListDevices", List())
      .Case("negative page size", [](List& r) { r.set_page_size(-1); }, "page_size")
      .Case("state that does not exist",
            [](List& r) { r.add_states(static_cast<posd::v1::DeviceState>(kNoSuchEnumValue)); },
            "states[0]");

  using Get = posd::v1::GetDeviceRequest;
  For(out, "/posd.v1.DeviceService/GetDevice", Get())
      .Case("empty id", [](Get&) {}, "device_id")
      .Case("id with capitals", [](Get& r) { r.set_device_id("Counter"); }, "device_id")
      .Case("id of 100 KB", [](Get& r) { r.set_device_id(kHuge); }, "device_id");

  using Create = posd::v1::CreateDeviceRequest;
  Create create;
  create.set_request_id("bad-device");
  create.set_device_id("till-9");
  create.mutable_device()->mutable_serial()->set_port("/dev/nonexistent-posd-test");
  For(out, "/posd.v1.DeviceService/CreateDevice", create)
      .Case("no request id", [](Create& r) { r.clear_request_id(); }, "request_id")
      .Case("no device", [](Create& r) { r.clear_device(); }, "device")
      .Case("display name of 100 KB",
            [](Create& r) { r.mutable_device()->set_display_name(kHuge); },
            "device.display_name")
      .Case("parity 999",
            [](Create& r) {
              r.mutable_device()->mutable_serial()->set_parity(
                  static_cast<posd::v1::Parity>(kNoSuchEnumValue));
            },
            "device.serial.parity");

  using Delete = posd::v1::DeleteDeviceRequest;
  Delete remove;
  remove.set_request_id("bad-delete");
  remove.set_device_id("till-9");
  For(out, "/posd.v1.DeviceService/DeleteDevice", remove)
      .Case("empty id", [](Delete& r) { r.clear_device_id(); }, "device_id")
      .Case("blank reason", [](Delete& r) { r.set_reason(kBlank); }, "reason");

  using Trace = posd::v1::TraceDeviceRequest;
  Trace trace;
  trace.set_device_id("till-9");
  For(out, "/posd.v1.DeviceService/TraceDevice", trace)
      .Case("empty id", [](Trace& r) { r.clear_device_id(); }, "device_id")
      .Case("kind that does not exist",
            [](Trace& r) { r.add_kinds(static_cast<posd::v1::TraceKind>(kNoSuchEnumValue)); },
            "kinds[0]");

  using Dump = posd::v1::DumpFlightRecorderRequest;
  Dump dump;
  dump.set_device_id("till-9");
  For(out, "/posd.v1.DeviceService/DumpFlightRecorder", dump)
      .Case("negative max entries", [](Dump& r) { r.set_max_entries(-1); }, "max_entries")
      .Case("empty id", [](Dump& r) { r.clear_device_id(); }, "device_id");

  For(out, "/posd.v1.DeviceService/DiscoverDevices", posd::v1::DiscoverDevicesRequest())
      .Bytes("bytes that are not a request", "\xff\xff\xff");
}

void AddOtherCases(std::vector<BadCall>& out) {
  For(out, "/posd.v1.AdminService/GetServerInfo", posd::v1::GetServerInfoRequest())
      .Bytes("bytes that are not a request", "\xff\xff\xff");
  For(out, "/posd.v1.AdminService/GetConfig", posd::v1::GetConfigRequest())
      .Bytes("truncated bytes", std::string("\x0a\x05" "ab", 4));
  using Level = posd::v1::SetLogLevelRequest;
  Level level;
  level.set_request_id("bad-level");
  level.set_level(posd::v1::LOG_LEVEL_DEBUG);
  For(out, "/posd.v1.AdminService/SetLogLevel", level)
      .Case("no request id", [](Level& r) { r.clear_request_id(); }, "request_id")
      .Case("level 999", [](Level& r) { r.set_level(static_cast<posd::v1::LogLevel>(999)); }, "level")
      .Case("no level", [](Level& r) { r.clear_level(); }, "level")
      .Case("request id with a cut emoji", [](Level& r) { r.set_request_id(kCutEmoji); },
            "request_id");

  using Watch = posd::v1::WatchEventsRequest;
  For(out, "/posd.v1.EventService/WatchEvents", Watch())
      .Case("kind that does not exist",
            [](Watch& r) {
              r.mutable_filter()->add_kinds(static_cast<posd::v1::EventKind>(kNoSuchEnumValue));
            },
            "filter.kinds[0]")
      .Case("order id with spaces", [](Watch& r) { r.mutable_filter()->set_order_id("ord 1"); },
            "filter.order_id")
      .Case("instance id of 100 KB", [](Watch& r) { r.set_instance_id(kHuge); }, "instance_id");
  using ListEvents = posd::v1::ListEventsRequest;
  For(out, "/posd.v1.EventService/ListEvents", ListEvents())
      .Case("negative page size", [](ListEvents& r) { r.set_page_size(-1); }, "page_size")
      .Case("garbage page token", [](ListEvents& r) { r.set_page_token("nope"); }, "page_token",
            StatusCode::INVALID_ARGUMENT, posd::v1::ERROR_REASON_INVALID_PAGE_TOKEN);

  using ListRuns = posd::v1::ListHookRunsRequest;
  For(out, "/posd.v1.HookService/ListHookRuns", ListRuns())
      .Case("negative page size", [](ListRuns& r) { r.set_page_size(-1); }, "page_size")
      .Case("state that does not exist",
            [](ListRuns& r) { r.add_states(static_cast<posd::v1::HookRunState>(kNoSuchEnumValue)); },
            "states[0]")
      .Case("hook point that does not exist",
            [](ListRuns& r) { r.set_hook_point(static_cast<posd::v1::HookPoint>(kNoSuchEnumValue)); },
            "hook_point")
      .Case("garbage page token", [](ListRuns& r) { r.set_page_token("nope"); }, "page_token",
            StatusCode::INVALID_ARGUMENT, posd::v1::ERROR_REASON_INVALID_PAGE_TOKEN);
  using GetRun = posd::v1::GetHookRunRequest;
  For(out, "/posd.v1.HookService/GetHookRun", GetRun())
      .Case("empty id", [](GetRun&) {}, "hook_run_id");
  using Retry = posd::v1::RetryHookRunRequest;
  Retry retry;
  retry.set_request_id("bad-retry");
  retry.set_hook_run_id("hook_01HF7YAT00V3DQ4XK2M8E9R6ZB");
  For(out, "/posd.v1.HookService/RetryHookRun", retry)
      .Case("no request id", [](Retry& r) { r.clear_request_id(); }, "request_id")
      .Case("blank reason", [](Retry& r) { r.set_reason(kBlank); }, "reason")
      .Case("empty id", [](Retry& r) { r.clear_hook_run_id(); }, "hook_run_id");

  using ListPlugins = posd::v1::ListPluginsRequest;
  For(out, "/posd.v1.PluginService/ListPlugins", ListPlugins())
      .Case("negative page size", [](ListPlugins& r) { r.set_page_size(-1); }, "page_size")
      .Case("garbage page token", [](ListPlugins& r) { r.set_page_token("x"); }, "page_token",
            StatusCode::INVALID_ARGUMENT, posd::v1::ERROR_REASON_INVALID_PAGE_TOKEN);
  using GetPlugin = posd::v1::GetPluginRequest;
  For(out, "/posd.v1.PluginService/GetPlugin", GetPlugin())
      .Case("empty name", [](GetPlugin&) {}, "name")
      .Case("name with a space", [](GetPlugin& r) { r.set_name("tip jar"); }, "name");

  using ListAudit = posd::v1::ListAuditRecordsRequest;
  For(out, "/posd.v1.AuditService/ListAuditRecords", ListAudit())
      .Case("negative page size", [](ListAudit& r) { r.set_page_size(-1); }, "page_size")
      .Case("action that does not exist",
            [](ListAudit& r) { r.add_actions(static_cast<posd::v1::AuditAction>(kNoSuchEnumValue)); },
            "actions[0]")
      .Case("outcome that does not exist",
            [](ListAudit& r) { r.set_outcome(static_cast<posd::v1::AuditOutcome>(kNoSuchEnumValue)); },
            "outcome")
      .Case("garbage page token", [](ListAudit& r) { r.set_page_token("1"); }, "page_token",
            StatusCode::INVALID_ARGUMENT, posd::v1::ERROR_REASON_INVALID_PAGE_TOKEN);
}

}  // namespace

std::vector<BadCall> BadInputCases(const Fixtures& fixtures) {
  std::vector<BadCall> cases;
  AddOrderCases(cases, fixtures);
  AddPaymentCases(cases, fixtures);
  AddDeviceCases(cases);
  AddOtherCases(cases);
  return cases;
}

std::vector<std::string> MethodsWithoutCases(const std::vector<BadCall>& cases) {
  std::set<std::string> called;
  for (const BadCall& bad : cases) called.insert(bad.method);
  std::vector<std::string> missing;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* service :
       {"posd.v1.AdminService", "posd.v1.OrderService", "posd.v1.PaymentService",
        "posd.v1.DeviceService", "posd.v1.EventService", "posd.v1.HookService",
        "posd.v1.PluginService", "posd.v1.AuditService"}) {
    const auto* descriptor = pool->FindServiceByName(service);
    if (descriptor == nullptr) {
      missing.push_back(service);
      continue;
    }
    for (int i = 0; i < descriptor->method_count(); ++i) {
      const std::string path =
          "/" + descriptor->full_name() + "/" + descriptor->method(i)->name();
      if (called.count(path) == 0) missing.push_back(descriptor->method(i)->full_name());
    }
  }
  return missing;
}

}  // namespace posd::testing
