#include "service/hooks/hook_subject_codec.h"

#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/hooks/test_values.h"

namespace posd::hooks {
namespace {

using ::posd::testing::StatusIs;

TEST(HookSubjectCodecTest, RoundTripsEveryPart) {
  core::Order order = testing::TestOrder();
  order.discounts.push_back(core::Discount{.code = "TEN", .amount = testing::Eur(100)});
  order.created_at = std::chrono::system_clock::time_point(std::chrono::microseconds(1'700'000'000'123'456));
  HookSubject subject{
      .order = order, .payment = testing::TestPayment(), .refund = testing::TestRefund()};
  absl::StatusOr<HookSubject> decoded = DecodeHookSubject(EncodeHookSubject(subject));
  POSD_ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, subject);
}

TEST(HookSubjectCodecTest, QuickSaleWithoutCardOrOrder) {
  core::Payment payment = testing::TestPayment();
  payment.order_id.reset();
  payment.card.reset();
  HookSubject subject{.payment = payment};
  absl::StatusOr<HookSubject> decoded = DecodeHookSubject(EncodeHookSubject(subject));
  POSD_ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, subject);
  POSD_EXPECT_OK(decoded->ValidateFor(HookPoint::kAfterPayment));
  EXPECT_THAT(decoded->ValidateFor(HookPoint::kAfterRefund),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(decoded->SubjectIdFor(HookPoint::kAfterPayment), payment.id.str());
}

TEST(HookSubjectCodecTest, DamagedBytesAreDataLoss) {
  EXPECT_THAT(DecodeHookSubject("\xff\xff\xff"), StatusIs(absl::StatusCode::kDataLoss));
  // Well-formed protobuf holding a value posd refuses (an unknown currency).
  core::Order order = testing::TestOrder();
  std::string bytes = EncodeHookSubject(HookSubject{.order = order});
  const size_t at = bytes.find("EUR");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 3, "XXX");
  EXPECT_THAT(DecodeHookSubject(bytes), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace posd::hooks
