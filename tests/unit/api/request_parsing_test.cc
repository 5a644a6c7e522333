#include "service/api/request_parsing.h"

#include "gtest/gtest.h"
#include "posd/v1/orders.pb.h"
#include "service/common/error_info.h"

namespace posd::api {
namespace {

std::string FieldOf(const absl::Status& status) {
  const auto details = GetErrorDetails(status);
  if (!details.has_value() || details->metadata.count("field") == 0) return "<none>";
  return details->metadata.at("field");
}

TEST(RequestParsingTest, AValidRequestParses) {
  posd::v1::GetOrderRequest sent;
  sent.set_order_id("ord_1");
  posd::v1::GetOrderRequest parsed;
  EXPECT_TRUE(ParseRequest(sent.SerializeAsString(), parsed).ok());
  EXPECT_EQ(parsed.order_id(), "ord_1");
}

TEST(RequestParsingTest, InvalidUtf8NamesTheNestedField) {
  posd::v1::CreateOrderRequest sent;
  sent.set_request_id("r");
  sent.mutable_order()->add_lines()->set_name("caf\xC3");
  posd::v1::CreateOrderRequest parsed;
  const absl::Status status = ParseRequest(sent.SerializeAsString(), parsed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(status), "order.lines.name");
  EXPECT_NE(status.message().find("invalid UTF-8"), std::string::npos);
  EXPECT_EQ(GetErrorDetails(status)->reason, ErrorReason::kInvalidField);
}

TEST(RequestParsingTest, OverlongAndSurrogateFormsAreNotUtf8) {
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"}) {
    posd::v1::GetOrderRequest sent;
    sent.set_order_id(bad);
    posd::v1::GetOrderRequest parsed;
    EXPECT_EQ(FieldOf(ParseRequest(sent.SerializeAsString(), parsed)), "order_id");
  }
}

TEST(RequestParsingTest, TruncatedBytesAreNotARequest) {
  posd::v1::GetOrderRequest parsed;
  const absl::Status status = ParseRequest(std::string("\x0a\x05" "ab", 4), parsed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(status), "request");
}

}  // namespace
}  // namespace posd::api
