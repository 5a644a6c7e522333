#include "service/common/error_info.h"

#include "gtest/gtest.h"
#include "posd/v1/errors.pb.h"

namespace posd {
namespace {

TEST(ErrorInfo, EveryReasonIsTheProtosNumberAndName) {
  const auto* descriptor = posd::v1::ErrorReason_descriptor();
  ASSERT_EQ(static_cast<std::size_t>(descriptor->value_count()), AllErrorReasons().size())
      << "a reason was added to errors.proto or error_info.h but not to both";
  for (ErrorReason reason : AllErrorReasons()) {
    const auto* value = descriptor->FindValueByNumber(static_cast<int>(reason));
    ASSERT_NE(value, nullptr) << ErrorReasonName(reason);
    EXPECT_EQ(value->name(), ErrorReasonName(reason));
  }
}

TEST(ErrorInfo, DetailsTravelWithTheStatus) {
  const ErrorDetails details{.reason = ErrorReason::kPaymentInDoubt,
                             .subject_type = "payment",
                             .subject_id = "pay_1:2",
                             .metadata = {{"field", "order_id"}, {"empty", ""}, {"a:b", "7:x"}}};
  const absl::Status status = WithErrorDetails(absl::FailedPreconditionError("no"), details);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "no");
  EXPECT_EQ(GetErrorDetails(status), details);
  // Copies keep the details; a status without them has none.
  const absl::Status copy = status;
  EXPECT_EQ(GetErrorDetails(copy), details);
  EXPECT_EQ(GetErrorDetails(absl::InternalError("x")), std::nullopt);
}

TEST(ErrorInfo, AnOkStatusCarriesNothing) {
  EXPECT_TRUE(WithErrorDetails(absl::OkStatus(), {.reason = ErrorReason::kHookVeto}).ok());
}

TEST(ErrorInfo, ShorthandsNameTheFieldAndSubject) {
  const absl::Status invalid = InvalidFieldError("amount.currency", "currency is required");
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorDetails(invalid)->reason, ErrorReason::kInvalidField);
  EXPECT_EQ(GetErrorDetails(invalid)->metadata.at("field"), "amount.currency");
  const absl::Status state = InvalidStateError("payment", "pay_9", "payment is APPROVED");
  EXPECT_EQ(state.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetErrorDetails(state)->subject_id, "pay_9");
}

TEST(QuoteInput, BoundsWhatAnErrorCopiesFromTheCaller) {
  EXPECT_EQ(QuoteInput("ord_1"), "\"ord_1\"");
  const std::string huge(100000, 'x');
  const std::string quoted = QuoteInput(huge);
  EXPECT_LT(quoted.size(), 80u);
  EXPECT_NE(quoted.find("100000 bytes"), std::string::npos);
  // A cut never splits a UTF-8 character; control bytes are masked.
  EXPECT_EQ(QuoteInput("ab\xC3\xA9", 3), "\"ab\"... (4 bytes)");
  EXPECT_EQ(QuoteInput("a\nb"), "\"a?b\"");
}

}  // namespace
}  // namespace posd
