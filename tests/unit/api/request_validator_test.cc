#include "service/api/request_validator.h"

#include <cstdint>

#include "gtest/gtest.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "service/common/error_info.h"

namespace posd::api {
namespace {

posd::v1::CreatePaymentRequest ValidPayment() {
  posd::v1::CreatePaymentRequest request;
  request.set_request_id("req-1");
  request.mutable_payment()->set_order_id("ord_01HF7YAT00V3DQ4XK2M8E9R6ZB");
  request.mutable_payment()->set_device_id("counter-1");
  request.mutable_payment()->mutable_amount()->set_amount_minor(350);
  request.mutable_payment()->mutable_amount()->set_currency_code("EUR");
  return request;
}

std::string FieldOf(const absl::Status& status) {
  const auto details = GetErrorDetails(status);
  if (!details.has_value()) return "<no details>";
  const auto field = details->metadata.find("field");
  return field == details->metadata.end() ? "<no field>" : field->second;
}

TEST(RequestValidatorTest, AValidRequestPasses) {
  const absl::Status status = ValidateRequest(ValidPayment());
  EXPECT_TRUE(status.ok()) << status;
}

TEST(RequestValidatorTest, TheFirstOffendingFieldIsNamedWithItsPath) {
  auto request = ValidPayment();
  request.mutable_payment()->mutable_tip()->set_amount_minor(INT64_MAX - 1);
  request.mutable_payment()->mutable_tip()->set_currency_code("EUR");
  absl::Status status = ValidateRequest(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(status), "payment.tip.amount_minor");
  EXPECT_EQ(GetErrorDetails(status)->reason, ErrorReason::kInvalidField);

  request = ValidPayment();
  request.mutable_payment()->mutable_amount()->set_currency_code("XYZ");
  status = ValidateRequest(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(status), "payment.amount.currency_code");
}

TEST(RequestValidatorTest, MessagesQuoteOnlyAShortPrefixOfTheInput) {
  posd::v1::GetOrderRequest request;
  request.set_order_id(std::string(100'000, '/'));
  absl::Status status = ValidateRequest(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(status.message().size(), 300u);
  request.set_order_id(std::string(50, '/'));
  status = ValidateRequest(request);
  EXPECT_EQ(FieldOf(status), "order_id");
  EXPECT_LT(status.message().size(), 300u);
}

TEST(RequestValidatorTest, ReasonsMustSaySomething) {
  posd::v1::RefundPaymentRequest request;
  request.set_request_id("r");
  request.set_payment_id("pay_1");
  request.set_reason(" \t\n ");
  EXPECT_EQ(FieldOf(ValidateRequest(request)), "reason");
  request.set_reason("");
  EXPECT_EQ(FieldOf(ValidateRequest(request)), "reason");
  request.set_reason("wrong item");
  EXPECT_TRUE(ValidateRequest(request).ok());
}

TEST(RequestValidatorTest, EnumValuesMustExistAndFiltersMustNotBeUnspecified) {
  posd::v1::ListOrdersRequest request;
  request.add_statuses(static_cast<posd::v1::OrderStatus>(999));
  EXPECT_EQ(FieldOf(ValidateRequest(request)), "statuses[0]");
  request.set_statuses(0, posd::v1::ORDER_STATUS_UNSPECIFIED);
  EXPECT_EQ(FieldOf(ValidateRequest(request)), "statuses[0]");
  request.set_statuses(0, posd::v1::ORDER_STATUS_PAID);
  EXPECT_TRUE(ValidateRequest(request).ok());
}

TEST(RequestValidatorTest, PageSizesAndTimestampsHaveRanges) {
  posd::v1::ListPaymentsRequest request;
  request.set_page_size(-1);
  EXPECT_EQ(FieldOf(ValidateRequest(request)), "page_size");
  request.set_page_size(100000);  // capped by the server, not refused
  EXPECT_TRUE(ValidateRequest(request).ok());
  request.mutable_created_after()->set_seconds(-70'000'000'000);
  EXPECT_EQ(FieldOf(ValidateRequest(request)), "created_after.seconds");
}

TEST(RequestValidatorTest, LinesNeedANameAPriceAndAQuantity) {
  posd::v1::CreateOrderRequest request;
  request.set_request_id("r");
  request.mutable_order()->set_currency_code("EUR");
  auto* line = request.mutable_order()->add_lines();
  line->set_sku("tea");
  line->set_quantity(1);
  line->mutable_unit_price()->set_amount_minor(100);
  line->mutable_unit_price()->set_currency_code("EUR");
  EXPECT_EQ(FieldOf(ValidateRequest(request)), "order.lines[0].name");
  line->set_name("Tea");
  EXPECT_TRUE(ValidateRequest(request).ok());
  line->set_quantity(0);
  EXPECT_EQ(FieldOf(ValidateRequest(request)), "order.lines[0].quantity");
}

}  // namespace
}  // namespace posd::api
