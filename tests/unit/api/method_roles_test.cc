#include "service/api/method_roles.h"

#include "gtest/gtest.h"
#include "service/api/request_limits.h"
#include "service/common/error_info.h"

namespace posd::api {
namespace {

TEST(MethodRolesTest, EveryMethodOfTheApiHasExactlyTheEntriesItNeeds) {
  const absl::Status status = CheckMethodRoles();
  EXPECT_TRUE(status.ok()) << status;
}

TEST(MethodRolesTest, EveryRequestMessageHasATableNamingEachField) {
  const absl::Status status = CheckRequestLimits();
  EXPECT_TRUE(status.ok()) << status;
}

TEST(MethodRolesTest, OperatorActionsAreDeniedToUis) {
  for (const char* method :
       {"posd.v1.PaymentService.RefundPayment", "posd.v1.PaymentService.ResolvePayment",
        "posd.v1.PaymentService.ResolveRefund", "posd.v1.HookService.RetryHookRun",
        "posd.v1.DeviceService.CreateDevice", "posd.v1.DeviceService.DeleteDevice",
        "posd.v1.AdminService.SetLogLevel", "posd.v1.AuditService.ListAuditRecords"}) {
    SCOPED_TRACE(method);
    const absl::Status denied = AuthorizeCall(method, Role::kUi);
    EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
    ASSERT_TRUE(GetErrorDetails(denied).has_value());
    EXPECT_EQ(GetErrorDetails(denied)->reason, ErrorReason::kRoleRequired);
    EXPECT_TRUE(AuthorizeCall(method, Role::kOperator).ok());
    EXPECT_TRUE(AuthorizeCall(method, Role::kFleet).ok());
  }
}

TEST(MethodRolesTest, UisWorkOrdersAndPayments) {
  for (const char* method :
       {"posd.v1.OrderService.CreateOrder", "posd.v1.OrderService.CancelOrder",
        "posd.v1.PaymentService.CreatePayment", "posd.v1.PaymentService.CancelPayment",
        "posd.v1.EventService.WatchEvents", "posd.v1.DeviceService.ListDevices"}) {
    EXPECT_TRUE(AuthorizeCall(method, Role::kUi).ok()) << method;
  }
}

TEST(MethodRolesTest, UnknownCallersAndMethodsAreDenied) {
  EXPECT_EQ(AuthorizeCall("posd.v1.OrderService.GetOrder", std::nullopt).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AuthorizeCall("posd.v1.OrderService.Nothing", Role::kOperator).code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace posd::api
