#include "service/api/method_roles.h"

#include <algorithm>
#include <string>

#include "google/protobuf/descriptor.h"
#include "posd/v1/admin.pb.h"
#include "posd/v1/audit.pb.h"
#include "posd/v1/devices.pb.h"
#include "posd/v1/events.pb.h"
#include "posd/v1/hooks.pb.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "posd/v1/plugins.pb.h"
#include "service/common/error_info.h"
#include "service/common/strings.h"

namespace posd::api {
namespace {

// docs/api.md "Roles": a UI reads everything but the audit log and works
// orders and payments; operators (and the fleet console, which may do all an
// operator may) also refund, resolve, manage devices and hook runs, set the
// log level and read the audit log.
constexpr MethodRule kRules[] = {
    {"posd.v1.AdminService.GetServerInfo", kAnyRole, "read the server info", "", ""},
    {"posd.v1.AdminService.GetConfig", kAnyRole, "read the configuration", "", ""},
    {"posd.v1.AdminService.SetLogLevel", kOperatorRoles, "change the log level", "", ""},

    {"posd.v1.OrderService.CreateOrder", kAnyRole, "create an order", "", ""},
    {"posd.v1.OrderService.GetOrder", kAnyRole, "read an order", "", ""},
    {"posd.v1.OrderService.ListOrders", kAnyRole, "list orders", "", ""},
    {"posd.v1.OrderService.UpdateOrder", kAnyRole, "update an order", "", ""},
    {"posd.v1.OrderService.PlaceOrder", kAnyRole, "place an order", "", ""},
    {"posd.v1.OrderService.CancelOrder", kAnyRole, "cancel an order", "cancel_order", "order_id"},

    {"posd.v1.PaymentService.CreatePayment", kAnyRole, "take a payment", "", ""},
    {"posd.v1.PaymentService.GetPayment", kAnyRole, "read a payment", "", ""},
    {"posd.v1.PaymentService.ListPayments", kAnyRole, "list payments", "", ""},
    {"posd.v1.PaymentService.CancelPayment", kAnyRole, "cancel a payment", "cancel_payment",
     "payment_id"},
    {"posd.v1.PaymentService.RefundPayment", kOperatorRoles, "refund a payment", "refund_payment",
     "payment_id"},
    {"posd.v1.PaymentService.ResolvePayment", kOperatorRoles, "resolve a payment by hand",
     "resolve_payment", "payment_id"},
    {"posd.v1.PaymentService.ResolveRefund", kOperatorRoles, "resolve a refund by hand",
     "resolve_refund", "refund_id"},

    {"posd.v1.DeviceService.ListDevices", kAnyRole, "list devices", "", ""},
    {"posd.v1.DeviceService.GetDevice", kAnyRole, "read a device", "", ""},
    {"posd.v1.DeviceService.CreateDevice", kOperatorRoles, "add a device", "", ""},
    {"posd.v1.DeviceService.DeleteDevice", kOperatorRoles, "remove a device", "", ""},
    {"posd.v1.DeviceService.TraceDevice", kAnyRole, "trace a device", "", ""},
    {"posd.v1.DeviceService.DumpFlightRecorder", kAnyRole, "dump a flight recorder", "", ""},
    {"posd.v1.DeviceService.DiscoverDevices", kAnyRole, "watch discovery", "", ""},

    {"posd.v1.EventService.WatchEvents", kAnyRole, "watch events", "", ""},
    {"posd.v1.EventService.ListEvents", kAnyRole, "list events", "", ""},

    {"posd.v1.HookService.ListHookRuns", kAnyRole, "list hook runs", "", ""},
    {"posd.v1.HookService.GetHookRun", kAnyRole, "read a hook run", "", ""},
    {"posd.v1.HookService.RetryHookRun", kOperatorRoles, "retry a hook run", "retry_hook_run",
     "hook_run_id"},

    {"posd.v1.PluginService.ListPlugins", kAnyRole, "list plugins", "", ""},
    {"posd.v1.PluginService.GetPlugin", kAnyRole, "read a plugin", "", ""},

    {"posd.v1.AuditService.ListAuditRecords", kOperatorRoles, "read the audit log", "", ""},
};

constexpr std::string_view kServices[] = {
    "posd.v1.AdminService",  "posd.v1.OrderService", "posd.v1.PaymentService",
    "posd.v1.DeviceService", "posd.v1.EventService", "posd.v1.HookService",
    "posd.v1.PluginService", "posd.v1.AuditService",
};

// Makes sure the generated descriptors of every API file are in the pool
// (they register when their translation unit is linked and initialised).
void TouchApiDescriptors() {
  (void)posd::v1::GetServerInfoRequest::descriptor();
  (void)posd::v1::ListAuditRecordsRequest::descriptor();
  (void)posd::v1::GetDeviceRequest::descriptor();
  (void)posd::v1::WatchEventsRequest::descriptor();
  (void)posd::v1::GetHookRunRequest::descriptor();
  (void)posd::v1::GetOrderRequest::descriptor();
  (void)posd::v1::GetPaymentRequest::descriptor();
  (void)posd::v1::GetPluginRequest::descriptor();
}

}  // namespace

const MethodRule* FindMethodRule(std::string_view full_method) {
  for (const MethodRule& rule : kRules) {
    if (rule.method == full_method) return &rule;
  }
  return nullptr;
}

std::span<const MethodRule> AllMethodRules() { return kRules; }

std::span<const std::string_view> ApiServiceNames() { return kServices; }

absl::Status AuthorizeCall(std::string_view full_method, std::optional<Role> role) {
  const MethodRule* rule = FindMethodRule(full_method);
  ErrorDetails details{.reason = ErrorReason::kRoleRequired};
  if (rule == nullptr) {
    return WithErrorDetails(
        absl::PermissionDeniedError(StrCat(QuoteInput(full_method, 100),
                                           " has no entry in posd's method-to-role table")),
        details);
  }
  if (!role.has_value()) {
    return WithErrorDetails(absl::PermissionDeniedError(StrCat(
                                "an unknown caller may not ", rule->action)),
                            details);
  }
  if ((rule->allowed & RoleBit(*role)) == 0) {
    details.metadata["role"] = std::string(RoleName(*role));
    return WithErrorDetails(
        absl::PermissionDeniedError(StrCat("the ", RoleName(*role), " role may not ",
                                           rule->action, " (", full_method, ")")),
        details);
  }
  return absl::OkStatus();
}

absl::Status CheckMethodRoles() {
  TouchApiDescriptors();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (std::string_view service_name : kServices) {
    const auto* service = pool->FindServiceByName(std::string(service_name));
    if (service == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("the method-to-role table names service ", service_name,
                 ", which the API does not define"));
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string& method = service->method(i)->full_name();
      if (FindMethodRule(method) == nullptr) {
        return absl::FailedPreconditionError(
            StrCat(method, " has no entry in the method-to-role table (service/api/"
                           "method_roles.cc): add one"));
      }
    }
  }
  for (const MethodRule& rule : kRules) {
    const auto* method = pool->FindMethodByName(std::string(rule.method));
    if (method == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("the method-to-role table names ", rule.method, ", which the API does not define"));
    }
    if (std::find(std::begin(kServices), std::end(kServices), method->service()->full_name()) ==
        std::end(kServices)) {
      return absl::FailedPreconditionError(
          StrCat(rule.method, " belongs to a service the table does not list"));
    }
    if (rule.allowed == 0) {
      return absl::FailedPreconditionError(StrCat(rule.method, " allows no role"));
    }
    if (!rule.audit_action.empty() &&
        method->input_type()->FindFieldByName(std::string(rule.subject_field)) == nullptr) {
      return absl::FailedPreconditionError(
          StrCat(rule.method, ": subject field ", rule.subject_field, " is not in its request"));
    }
  }
  return absl::OkStatus();
}

}  // namespace posd::api
