#include "service/api/request_limits.h"

#include <algorithm>
#include <string>

#include "google/protobuf/descriptor.h"
#include "service/api/method_roles.h"
#include "service/common/strings.h"

namespace posd::api {
namespace {

// Shared shapes. Field names come from the proto; the numbers are the ones
// docs/api.md ("Limits") publishes.
constexpr FieldLimit RequestId() {
  return {.field = "request_id", .required = true, .max_bytes = 128, .chars = Chars::kToken};
}
constexpr FieldLimit Id(std::string_view field, bool required) {
  return {.field = field, .required = required, .max_bytes = 64, .chars = Chars::kId};
}
constexpr FieldLimit DeviceId(std::string_view field, bool required) {
  return {.field = field, .required = required, .max_bytes = 63, .chars = Chars::kDeviceId};
}
constexpr FieldLimit Reason(bool required) {
  return {.field = "reason", .required = required, .max_bytes = 500, .chars = Chars::kText,
          .says_something = true};
}
constexpr FieldLimit PageSize() { return {.field = "page_size", .min = 0}; }
constexpr FieldLimit PageToken() {
  return {.field = "page_token", .max_bytes = 512, .chars = Chars::kToken};
}
constexpr FieldLimit Filter(std::string_view field) { return {.field = field, .max_items = 20}; }
constexpr FieldLimit Message(std::string_view field, bool required) {
  return {.field = field, .required = required};
}

// --- nested messages (input fields only) ---
constexpr FieldLimit kMoney[] = {
    {.field = "amount_minor", .min = 0, .max = kMaxAmountMinor},
    {.field = "currency_code", .required = true, .max_bytes = 3, .chars = Chars::kCurrency},
};
constexpr FieldLimit kTimestamp[] = {
    // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as google.protobuf.Timestamp allows.
    {.field = "seconds", .min = -62'135'596'800, .max = 253'402'300'799},
    {.field = "nanos", .min = 0, .max = 999'999'999},
};
constexpr FieldLimit kFieldMask[] = {
    {.field = "paths", .required = true, .max_bytes = 64, .chars = Chars::kKey, .max_items = 10},
};
constexpr FieldLimit kOrderLine[] = {
    {.field = "line_id", .max_bytes = 64, .chars = Chars::kKey},
    {.field = "sku", .required = true, .max_bytes = 64, .chars = Chars::kLine,
     .says_something = true},
    {.field = "name", .required = true, .max_bytes = 200, .chars = Chars::kLine,
     .says_something = true},
    {.field = "quantity", .min = 1, .max = kMaxLineQuantity},
    Message("unit_price", true),
};
constexpr FieldLimit kOrder[] = {
    Id("id", false),
    {.field = "currency_code", .required = true, .max_bytes = 3, .chars = Chars::kCurrency},
    {.field = "lines", .max_items = kMaxOrderLines},
    {.field = "coupon_codes", .required = false, .max_bytes = 64, .chars = Chars::kLine,
     .says_something = true, .max_items = 20},
    {.field = "external_reference", .max_bytes = 128, .chars = Chars::kLine},
    {.field = "note", .max_bytes = 1024, .chars = Chars::kText},
    {.field = "labels", .max_items = 32},
};
// UpdateOrder: only what the mask names changes, so nothing is required.
constexpr FieldLimit kOrderUpdate[] = {
    Id("id", true),
    {.field = "lines", .max_items = kMaxOrderLines},
    {.field = "coupon_codes", .required = false, .max_bytes = 64, .chars = Chars::kLine,
     .says_something = true, .max_items = 20},
    {.field = "external_reference", .max_bytes = 128, .chars = Chars::kLine},
    {.field = "note", .max_bytes = 1024, .chars = Chars::kText},
    {.field = "labels", .max_items = 32},
};
constexpr FieldLimit kPayment[] = {
    // Optional until posctl's quick sale (pay --amount without --order) and the
    // engine agree on what a payment without an order means (issue 12).
    Id("order_id", false),
    DeviceId("device_id", true),
    Message("amount", true),
    Message("tip", false),
};
constexpr FieldLimit kSerialTransport[] = {
    {.field = "port", .required = true, .max_bytes = 256, .chars = Chars::kLine},
    {.field = "baud_rate", .min = 0, .max = 4'000'000},
    {.field = "data_bits", .min = 0, .max = 8},
    {.field = "parity"},
    {.field = "stop_bits"},
    {.field = "flow_control"},
};
constexpr FieldLimit kWebSocketTransport[] = {
    DeviceId("terminal_id", false),
    {.field = "host", .max_bytes = 253, .chars = Chars::kToken},
    {.field = "port", .min = 0, .max = 65535},
    {.field = "path", .max_bytes = 256, .chars = Chars::kToken},
    {.field = "tls"},
};
constexpr FieldLimit kDevice[] = {
    {.field = "display_name", .max_bytes = 200, .chars = Chars::kLine},
    Message("serial", false),
    Message("websocket", false),
};
constexpr FieldLimit kEventFilter[] = {
    Filter("kinds"),
    Id("order_id", false),
    Id("payment_id", false),
    DeviceId("device_id", false),
};

// --- requests ---
constexpr FieldLimit kSetLogLevel[] = {RequestId(), {.field = "level", .required = true}};

constexpr FieldLimit kCreateOrder[] = {RequestId(), Message("order", true)};
constexpr FieldLimit kGetOrder[] = {Id("order_id", true)};
constexpr FieldLimit kListOrders[] = {
    PageSize(), PageToken(), Filter("statuses"), Message("created_after", false),
    Message("created_before", false),
    {.field = "external_reference", .max_bytes = 128, .chars = Chars::kLine},
};
constexpr FieldLimit kUpdateOrder[] = {
    RequestId(),
    {.field = "order", .required = true, .table = "posd.v1.Order#update"},
    Message("update_mask", true),
};
constexpr FieldLimit kPlaceOrder[] = {RequestId(), Id("order_id", true)};
constexpr FieldLimit kCancelOrder[] = {RequestId(), Id("order_id", true), Reason(false)};

constexpr FieldLimit kCreatePayment[] = {
    RequestId(), Message("payment", true),
    {.field = "parameters", .max_items = 16, .max_value_bytes = 256},
};
constexpr FieldLimit kGetPayment[] = {Id("payment_id", true)};
constexpr FieldLimit kListPayments[] = {
    PageSize(),          PageToken(), Id("order_id", false), DeviceId("device_id", false),
    Filter("statuses"),  Message("created_after", false),    Message("created_before", false),
};
constexpr FieldLimit kCancelPayment[] = {RequestId(), Id("payment_id", true), Reason(false)};
constexpr FieldLimit kRefundPayment[] = {RequestId(), Id("payment_id", true),
                                         Message("amount", false), Reason(true),
                                         DeviceId("device_id", false)};
constexpr FieldLimit kResolvePayment[] = {
    RequestId(), Id("payment_id", true), {.field = "outcome", .required = true}, Reason(true),
    {.field = "approval_code", .max_bytes = 32, .chars = Chars::kToken},
    {.field = "terminal_reference", .max_bytes = 64, .chars = Chars::kToken},
};
constexpr FieldLimit kResolveRefund[] = {
    RequestId(), Id("refund_id", true), {.field = "outcome", .required = true}, Reason(true),
    {.field = "terminal_reference", .max_bytes = 64, .chars = Chars::kToken},
};

constexpr FieldLimit kListDevices[] = {PageSize(), PageToken(), Filter("states")};
constexpr FieldLimit kGetDevice[] = {DeviceId("device_id", true)};
constexpr FieldLimit kCreateDevice[] = {RequestId(), DeviceId("device_id", true),
                                        Message("device", true)};
constexpr FieldLimit kDeleteDevice[] = {RequestId(), DeviceId("device_id", true), Reason(false)};
constexpr FieldLimit kTraceDevice[] = {DeviceId("device_id", true), Filter("kinds"),
                                       {.field = "include_payload"}};
constexpr FieldLimit kDumpFlightRecorder[] = {DeviceId("device_id", true),
                                              {.field = "max_entries", .min = 0},
                                              {.field = "include_payload"}};
constexpr FieldLimit kDiscoverDevices[] = {{.field = "include_current"}};

constexpr FieldLimit kWatchEvents[] = {
    {.field = "since_sequence"},
    Message("filter", false),
    {.field = "instance_id", .max_bytes = 64, .chars = Chars::kToken},
};
constexpr FieldLimit kListEvents[] = {
    PageSize(), PageToken(),
    {.field = "since_sequence"},
    Message("filter", false),
};

constexpr FieldLimit kListHookRuns[] = {
    PageSize(), PageToken(), Filter("states"), {.field = "hook_point"},
    {.field = "plugin", .max_bytes = 64, .chars = Chars::kKey}, Id("subject_id", false),
};
constexpr FieldLimit kGetHookRun[] = {Id("hook_run_id", true)};
constexpr FieldLimit kRetryHookRun[] = {RequestId(), Id("hook_run_id", true), Reason(false)};

constexpr FieldLimit kListPlugins[] = {PageSize(), PageToken()};
constexpr FieldLimit kGetPlugin[] = {
    {.field = "name", .required = true, .max_bytes = 64, .chars = Chars::kKey}};

constexpr FieldLimit kListAuditRecords[] = {
    PageSize(),
    PageToken(),
    Filter("actions"),
    Id("subject_id", false),
    {.field = "principal", .max_bytes = 128, .chars = Chars::kLine},
    Message("occurred_after", false),
    Message("occurred_before", false),
    {.field = "outcome"},
};

constexpr MessageLimits kTables[] = {
    {"posd.v1.Money", kMoney},
    {"google.protobuf.Timestamp", kTimestamp},
    {"google.protobuf.FieldMask", kFieldMask},
    {"posd.v1.OrderLine", kOrderLine},
    {"posd.v1.Order", kOrder},
    {"posd.v1.Order#update", kOrderUpdate},
    {"posd.v1.Payment", kPayment},
    {"posd.v1.SerialTransport", kSerialTransport},
    {"posd.v1.WebSocketTransport", kWebSocketTransport},
    {"posd.v1.Device", kDevice},
    {"posd.v1.EventFilter", kEventFilter},

    {"posd.v1.GetServerInfoRequest", {}},
    {"posd.v1.GetConfigRequest", {}},
    {"posd.v1.SetLogLevelRequest", kSetLogLevel},
    {"posd.v1.CreateOrderRequest", kCreateOrder},
    {"posd.v1.GetOrderRequest", kGetOrder},
    {"posd.v1.ListOrdersRequest", kListOrders},
    {"posd.v1.UpdateOrderRequest", kUpdateOrder},
    {"posd.v1.PlaceOrderRequest", kPlaceOrder},
    {"posd.v1.CancelOrderRequest", kCancelOrder},
    {"posd.v1.CreatePaymentRequest", kCreatePayment},
    {"posd.v1.GetPaymentRequest", kGetPayment},
    {"posd.v1.ListPaymentsRequest", kListPayments},
    {"posd.v1.CancelPaymentRequest", kCancelPayment},
    {"posd.v1.RefundPaymentRequest", kRefundPayment},
    {"posd.v1.ResolvePaymentRequest", kResolvePayment},
    {"posd.v1.ResolveRefundRequest", kResolveRefund},
    {"posd.v1.ListDevicesRequest", kListDevices},
    {"posd.v1.GetDeviceRequest", kGetDevice},
    {"posd.v1.CreateDeviceRequest", kCreateDevice},
    {"posd.v1.DeleteDeviceRequest", kDeleteDevice},
    {"posd.v1.TraceDeviceRequest", kTraceDevice},
    {"posd.v1.DumpFlightRecorderRequest", kDumpFlightRecorder},
    {"posd.v1.DiscoverDevicesRequest", kDiscoverDevices},
    {"posd.v1.WatchEventsRequest", kWatchEvents},
    {"posd.v1.ListEventsRequest", kListEvents},
    {"posd.v1.ListHookRunsRequest", kListHookRuns},
    {"posd.v1.GetHookRunRequest", kGetHookRun},
    {"posd.v1.RetryHookRunRequest", kRetryHookRun},
    {"posd.v1.ListPluginsRequest", kListPlugins},
    {"posd.v1.GetPluginRequest", kGetPlugin},
    {"posd.v1.ListAuditRecordsRequest", kListAuditRecords},
};

const FieldLimit* FindField(const MessageLimits& limits, std::string_view field) {
  for (const FieldLimit& limit : limits.fields) {
    if (limit.field == field) return &limit;
  }
  return nullptr;
}

}  // namespace

const MessageLimits* FindMessageLimits(std::string_view name) {
  for (const MessageLimits& limits : kTables) {
    if (limits.message == name) return &limits;
  }
  return nullptr;
}

std::span<const MessageLimits> AllMessageLimits() { return kTables; }

absl::Status CheckRequestLimits() {
  // CheckMethodRoles loads every API descriptor and proves the services exist.
  if (absl::Status roles = CheckMethodRoles(); !roles.ok()) return roles;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (std::string_view service_name : ApiServiceNames()) {
    const auto* service = pool->FindServiceByName(std::string(service_name));
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* request = service->method(i)->input_type();
      const MessageLimits* limits = FindMessageLimits(request->full_name());
      if (limits == nullptr) {
        return absl::FailedPreconditionError(
            StrCat(request->full_name(), " has no table in service/api/request_limits.cc"));
      }
      for (int f = 0; f < request->field_count(); ++f) {
        if (FindField(*limits, request->field(f)->name()) == nullptr) {
          return absl::FailedPreconditionError(
              StrCat(request->field(f)->full_name(), " has no limit in its table"));
        }
      }
    }
  }
  for (const MessageLimits& limits : kTables) {
    const std::string_view type = limits.message.substr(0, limits.message.find('#'));
    const auto* message = pool->FindMessageTypeByName(std::string(type));
    if (message == nullptr) {
      return absl::FailedPreconditionError(StrCat("limits for unknown message ", limits.message));
    }
    for (const FieldLimit& limit : limits.fields) {
      if (message->FindFieldByName(std::string(limit.field)) == nullptr) {
        return absl::FailedPreconditionError(
            StrCat("limits name ", limits.message, ".", limit.field, ", which does not exist"));
      }
      if (!limit.table.empty() && FindMessageLimits(limit.table) == nullptr) {
        return absl::FailedPreconditionError(
            StrCat(limits.message, ".", limit.field, " names table ", limit.table,
                   ", which does not exist"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace posd::api
