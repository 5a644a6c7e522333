#include "service/api/status_conversion.h"

#include "gtest/gtest.h"
#include "posd/v1/errors.pb.h"

namespace posd::api {
namespace {

posd::v1::ErrorInfo InfoOf(const grpc::Status& status) {
  posd::v1::ErrorStatus error_status;
  EXPECT_TRUE(error_status.ParseFromString(status.error_details()));
  EXPECT_EQ(error_status.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(error_status.message(), status.error_message());
  posd::v1::ErrorInfo info;
  EXPECT_EQ(error_status.details_size(), 1);
  if (error_status.details_size() == 1) {
    EXPECT_TRUE(error_status.details(0).UnpackTo(&info));
  }
  return info;
}

TEST(StatusConversionTest, AttachedDetailsBecomeTheErrorInfo) {
  const absl::Status status = WithErrorDetails(
      absl::FailedPreconditionError("payment pay_1 is IN_DOUBT"),
      ErrorDetails{.reason = ErrorReason::kPaymentInDoubt,
                   .subject_type = "payment",
                   .subject_id = "pay_1",
                   .metadata = {{"device_state", "BUSY"}}});
  const grpc::Status converted = ToGrpcStatus(status);
  EXPECT_EQ(converted.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(converted.error_message(), "payment pay_1 is IN_DOUBT");
  const posd::v1::ErrorInfo info = InfoOf(converted);
  EXPECT_EQ(info.reason(), posd::v1::ERROR_REASON_PAYMENT_IN_DOUBT);
  EXPECT_EQ(info.subject_type(), "payment");
  EXPECT_EQ(info.subject_id(), "pay_1");
  EXPECT_EQ(info.metadata().at("device_state"), "BUSY");
}

TEST(StatusConversionTest, EveryErrorGetsAReasonFromItsCodeAtLeast) {
  EXPECT_EQ(InfoOf(ToGrpcStatus(absl::InvalidArgumentError("x"))).reason(),
            posd::v1::ERROR_REASON_INVALID_FIELD);
  EXPECT_EQ(InfoOf(ToGrpcStatus(absl::PermissionDeniedError("x"))).reason(),
            posd::v1::ERROR_REASON_ROLE_REQUIRED);
  // ALREADY_EXISTS is a reused request id only where the journal says so.
  EXPECT_EQ(InfoOf(ToGrpcStatus(absl::AlreadyExistsError("x"))).reason(),
            posd::v1::ERROR_REASON_UNSPECIFIED);
  EXPECT_EQ(InfoOf(ToGrpcStatus(absl::NotFoundError("x"))).reason(),
            posd::v1::ERROR_REASON_UNSPECIFIED);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).error_details().empty());
}

TEST(StatusConversionTest, LongMessagesAreCutAtACharacterBoundary) {
  std::string long_message(3000, 'x');
  long_message.replace(1005, 2, "\xC3\xA9");  // an é across the cut
  const grpc::Status converted = ToGrpcStatus(absl::NotFoundError(long_message));
  EXPECT_LE(converted.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_NE(converted.error_message().find("(message cut)"), std::string::npos);
  // No dangling lead byte of a cut character.
  EXPECT_EQ(converted.error_message().find("\xC3 "), std::string::npos);
}

}  // namespace
}  // namespace posd::api
