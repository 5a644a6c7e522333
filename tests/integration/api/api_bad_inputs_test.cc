// Every method of posd.v1 driven with bad inputs from a plain gRPC client
// (not posctl) against the real posd: each case asserts the status code, the
// posd.v1.ErrorInfo reason and offending field from grpc-status-details-bin,
// a bounded message, and that nothing changed (the lists before and after).
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "posd/v1/admin.pb.h"
#include "posd/v1/audit.pb.h"
#include "posd/v1/devices.pb.h"
#include "posd/v1/events.pb.h"
#include "posd/v1/hooks.pb.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "posd/v1/plugins.pb.h"
#include "tests/integration/api/api_client.h"
#include "tests/integration/api/bad_input_cases.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd::testing {
namespace {

using ::testing::HasSubstr;

class ApiBadInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WritePosdConfig(paths_);
    posd_.emplace(StartPosd(POSD_BINARY, paths_, dir_.path()));
    ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
    channel_ = grpc::CreateChannel(paths_.address(), grpc::InsecureChannelCredentials());
  }

  template <typename Response>
  Response Call(const std::string& method, const google::protobuf::Message& request) {
    const RawAnswer answer = CallRaw(channel_, method, request.SerializeAsString());
    EXPECT_TRUE(answer.status.ok()) << method << ": " << answer.status.error_message();
    Response response;
    if (!answer.responses.empty()) response.ParseFromString(answer.responses.front());
    return response;
  }

  // What a client can see of posd's state; refused calls must not change it.
  std::string Snapshot() {
    posd::v1::ListOrdersRequest orders;
    orders.set_page_size(500);
    posd::v1::ListPaymentsRequest payments;
    payments.set_page_size(500);
    posd::v1::ListEventsRequest events;
    events.set_page_size(1000);
    posd::v1::ListDevicesRequest devices;
    posd::v1::ListHookRunsRequest runs;
    posd::v1::ListAuditRecordsRequest succeeded;
    succeeded.set_outcome(posd::v1::AUDIT_OUTCOME_SUCCEEDED);
    auto order_list = Call<posd::v1::ListOrdersResponse>("/posd.v1.OrderService/ListOrders", orders);
    auto payment_list =
        Call<posd::v1::ListPaymentsResponse>("/posd.v1.PaymentService/ListPayments", payments);
    // as_of_sequence moves only with events, which the event list covers.
    return order_list.SerializeAsString() + "|" + payment_list.SerializeAsString() + "|" +
           Call<posd::v1::ListEventsResponse>("/posd.v1.EventService/ListEvents", events)
               .SerializeAsString() +
           "|" +
           Call<posd::v1::ListDevicesResponse>("/posd.v1.DeviceService/ListDevices", devices)
               .SerializeAsString() +
           "|" +
           Call<posd::v1::ListHookRunsResponse>("/posd.v1.HookService/ListHookRuns", runs)
               .SerializeAsString() +
           "|" +
           Call<posd::v1::ListAuditRecordsResponse>("/posd.v1.AuditService/ListAuditRecords",
                                                    succeeded)
               .SerializeAsString();
  }

  // An OPEN order and a PLACED one, so that some bad inputs name real ids.
  Fixtures MakeFixtures() {
    Fixtures fixtures;
    for (int i = 0; i < 2; ++i) {
      posd::v1::CreateOrderRequest create;
      create.set_request_id("fixture-order-" + std::to_string(i));
      create.mutable_order()->set_currency_code("EUR");
      auto* line = create.mutable_order()->add_lines();
      line->set_sku("coffee");
      line->set_name("Coffee");
      line->set_quantity(1);
      line->mutable_unit_price()->set_amount_minor(350);
      line->mutable_unit_price()->set_currency_code("EUR");
      fixtures.created_order = create;
      fixtures.order_id =
          Call<posd::v1::Order>("/posd.v1.OrderService/CreateOrder", create).id();
    }
    posd::v1::PlaceOrderRequest place;
    place.set_request_id("fixture-place");
    place.set_order_id(fixtures.order_id);
    Call<posd::v1::Order>("/posd.v1.OrderService/PlaceOrder", place);
    fixtures.place_order = place;
    posd::v1::ListOrdersRequest first_page;
    first_page.set_page_size(1);
    fixtures.order_page_token =
        Call<posd::v1::ListOrdersResponse>("/posd.v1.OrderService/ListOrders", first_page)
            .next_page_token();
    return fixtures;
  }

  TempDir dir_;
  PosdPaths paths_{dir_.path()};
  std::optional<Subprocess> posd_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ApiBadInputsTest, EveryBadInputIsRefusedWithItsReasonAndChangesNothing) {
  const Fixtures fixtures = MakeFixtures();
  ASSERT_FALSE(fixtures.order_id.empty());
  ASSERT_FALSE(fixtures.order_page_token.empty());
  const std::vector<BadCall> cases = BadInputCases(fixtures);

  const std::string before = Snapshot();
  for (const BadCall& bad : cases) {
    SCOPED_TRACE(bad.label + " (" + bad.method + ")");
    const RawAnswer answer = CallRaw(channel_, bad.method, bad.request_bytes);
    EXPECT_EQ(answer.status.error_code(), bad.code) << answer.status.error_message();
    ASSERT_TRUE(answer.has_error_info) << "no posd.v1.ErrorInfo in grpc-status-details-bin";
    EXPECT_EQ(answer.error_info.reason(), bad.reason)
        << posd::v1::ErrorReason_Name(answer.error_info.reason()) << ": "
        << answer.status.error_message();
    if (!bad.field.empty()) {
      const auto field = answer.error_info.metadata().find("field");
      ASSERT_NE(field, answer.error_info.metadata().end()) << answer.status.error_message();
      EXPECT_EQ(field->second, bad.field) << answer.status.error_message();
    }
    EXPECT_EQ(answer.error_status.code(), static_cast<int>(bad.code));
    EXPECT_EQ(answer.error_status.message(), answer.status.error_message());
    EXPECT_FALSE(answer.status.error_message().empty());
    EXPECT_LE(answer.status.error_message().size(), 1024u);
    EXPECT_TRUE(answer.responses.empty());
    // Per case, so a change is pinned on the call that made it.
    ASSERT_EQ(Snapshot(), before) << "the refused call changed posd's state";
  }
  // Every method of the API met at least one bad input.
  EXPECT_THAT(MethodsWithoutCases(cases), ::testing::IsEmpty());
}

TEST_F(ApiBadInputsTest, AReusedRequestIdWithOtherArgumentsIsAlreadyExists) {
  const Fixtures fixtures = MakeFixtures();
  const std::string before = Snapshot();
  posd::v1::CreateOrderRequest other = fixtures.created_order;
  other.mutable_order()->mutable_lines(0)->set_quantity(5);
  RawAnswer answer =
      CallRaw(channel_, "/posd.v1.OrderService/CreateOrder", other.SerializeAsString());
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << answer.status.error_message();
  ASSERT_TRUE(answer.has_error_info);
  EXPECT_EQ(answer.error_info.reason(), posd::v1::ERROR_REASON_REQUEST_ID_REUSED);

  posd::v1::PlaceOrderRequest place_other = fixtures.place_order;
  place_other.set_order_id(fixtures.order_id + "0");
  answer = CallRaw(channel_, "/posd.v1.OrderService/PlaceOrder", place_other.SerializeAsString());
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << answer.status.error_message();
  ASSERT_TRUE(answer.has_error_info);
  EXPECT_EQ(answer.error_info.reason(), posd::v1::ERROR_REASON_REQUEST_ID_REUSED);
  EXPECT_EQ(Snapshot(), before);

  // The same arguments are a retry: the first answer, nothing new.
  answer = CallRaw(channel_, "/posd.v1.OrderService/CreateOrder",
                   fixtures.created_order.SerializeAsString());
  EXPECT_TRUE(answer.status.ok()) << answer.status.error_message();
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ApiBadInputsTest, AHugeIdIsQuotedOnlyInPart) {
  posd::v1::GetOrderRequest request;
  request.set_order_id(std::string(100 * 1024, 'a'));
  const RawAnswer answer =
      CallRaw(channel_, "/posd.v1.OrderService/GetOrder", request.SerializeAsString());
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(answer.status.error_message().size(), 1024u);
  EXPECT_THAT(answer.status.error_message(), HasSubstr("order_id"));
}

TEST_F(ApiBadInputsTest, InvalidUtf8IsInvalidArgumentThatSaysSo) {
  posd::v1::GetOrderRequest request;
  request.set_order_id("ord_caf\xC3");  // an "é" cut in half
  const RawAnswer answer =
      CallRaw(channel_, "/posd.v1.OrderService/GetOrder", request.SerializeAsString());
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(answer.status.error_message(), HasSubstr("invalid UTF-8"));
  ASSERT_TRUE(answer.has_error_info);
  EXPECT_EQ(answer.error_info.reason(), posd::v1::ERROR_REASON_INVALID_FIELD);
}

}  // namespace
}  // namespace posd::testing
