#include "service/core/payment.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/refund.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/core/test_values.h"

namespace posd::core {
namespace {

using ::posd::core::testing::Eur;
using ::posd::core::testing::EurPayment;
using ::posd::core::testing::EurRefund;
using ::posd::core::testing::Jpy;
using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PaymentTest, QuickSaleWithoutOrderIsValid) {
  Payment payment = EurPayment(1, nullptr, 1000, PaymentState::kCreated, 150);
  EXPECT_FALSE(payment.order_id.has_value());
  EXPECT_THAT(payment.Validate(), IsOk());
  EXPECT_EQ(payment.currency(), Eur());
  EXPECT_EQ(*payment.ChargeTotal(), Eur(1150));
  EXPECT_EQ(*payment.Captured(), Eur(0));  // not approved yet
}

TEST(PaymentTest, CapturedIsAmountPlusTipOnceApproved) {
  for (PaymentState state : kAllPaymentStates) {
    const int64_t refunded = state == PaymentState::kRefunded            ? 1150
                             : state == PaymentState::kPartiallyRefunded ? 100
                                                                          : 0;
    Payment payment = EurPayment(1, nullptr, 1000, state, 150, refunded);
    EXPECT_THAT(payment.Validate(), IsOk()) << state;
    EXPECT_EQ(*payment.Captured(), WasApproved(state) ? Eur(1150) : Eur(0)) << state;
  }
}

TEST(PaymentTest, RefusesBrokenInvariants) {
  Payment payment = EurPayment(1, nullptr, 0, PaymentState::kCreated);
  EXPECT_THAT(payment.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("> 0")));
  payment = EurPayment(1, nullptr, 100, PaymentState::kCreated, -1);
  EXPECT_THAT(payment.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tip")));
  payment = EurPayment(1, nullptr, 100, PaymentState::kCreated);
  payment.tip = Jpy(0);
  EXPECT_THAT(payment.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one currency")));
  payment = EurPayment(1, nullptr, 100, PaymentState::kApproved, 0, 10);
  EXPECT_THAT(payment.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not fit state")));
  payment = EurPayment(1, nullptr, 100, PaymentState::kPartiallyRefunded, 0, 100);
  EXPECT_THAT(payment.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  payment = EurPayment(1, nullptr, 100, PaymentState::kPartiallyRefunded, 0, 0);
  EXPECT_THAT(payment.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  payment = EurPayment(1, nullptr, 100, PaymentState::kRefunded, 20, 100);
  EXPECT_THAT(payment.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PaymentTest, CarriesCardDataFromTheTerminal) {
  Payment payment = EurPayment(1, nullptr, 100, PaymentState::kApproved);
  payment.card = CardData{.brand = "VISA", .masked_pan = *MaskedPan::Parse("411111******1111")};
  payment.approval_code = "A1B2C3";
  EXPECT_EQ(payment.card->masked_pan.last_four(), "1111");
  EXPECT_THAT(payment.Validate(), IsOk());
}

TEST(RefundTest, ValidatesAmountAndReason) {
  const Payment payment = EurPayment(1, nullptr, 100, PaymentState::kApproved);
  Refund refund = EurRefund(1, payment, 50, RefundState::kPending);
  EXPECT_THAT(refund.Validate(), IsOk());
  refund.amount = Eur(0);
  EXPECT_THAT(refund.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("> 0")));
  refund = EurRefund(1, payment, 50, RefundState::kPending);
  refund.reason.clear();
  EXPECT_THAT(refund.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
}

TEST(RefundTest, StateNamesRoundTripAndReservations) {
  for (RefundState state : kAllRefundStates) {
    EXPECT_EQ(*ParseRefundState(ToString(state)), state);
  }
  EXPECT_THAT(ParseRefundState("DONE"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(ReservesAmount(RefundState::kPending));
  EXPECT_TRUE(ReservesAmount(RefundState::kInDoubt));
  EXPECT_FALSE(ReservesAmount(RefundState::kCompleted));
  EXPECT_FALSE(ReservesAmount(RefundState::kFailed));
}

}  // namespace
}  // namespace posd::core
