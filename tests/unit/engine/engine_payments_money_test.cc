// One terminal, one payment (the reservation taken in the dispatching
// transaction), money that cannot overflow, partial approvals and checked
// results, against the engine with the fake terminal fleet.
#include <future>
#include <latch>
#include <thread>

#include "service/common/error_info.h"
#include "service/core/money.h"
#include "service/engine/checked_result.h"
#include "tests/unit/engine/engine_fixture.h"

namespace posd::engine::testing {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Code = absl::StatusCode;

// Holds the writer inside a command until released, so that commands
// submitted meanwhile form one group.
class WriterBlocker {
 public:
  explicit WriterBlocker(Engine& engine)
      : thread_([this, &engine] {
          (void)engine.RunWrite([this](store::Database&) {
            started_.count_down();
            release_.wait();
            return absl::OkStatus();
          });
        }) {
    started_.wait();
  }
  void Release() {
    release_.count_down();
    thread_.join();
  }

 private:
  std::latch started_{1};
  std::latch release_{1};
  std::thread thread_;
};

posd::v1::CreatePaymentRequest QuickSale(int n, int64_t amount, int64_t tip = 0) {
  posd::v1::CreatePaymentRequest request;
  request.set_request_id("quick-" + std::to_string(n));
  request.mutable_payment()->set_device_id("counter-1");
  request.mutable_payment()->mutable_amount()->set_amount_minor(amount);
  request.mutable_payment()->mutable_amount()->set_currency_code("EUR");
  request.mutable_payment()->mutable_tip()->set_amount_minor(tip);
  return request;
}

ErrorReason ReasonOf(const absl::Status& status) {
  const auto details = GetErrorDetails(status);
  return details ? details->reason : ErrorReason::kUnspecified;
}

TEST_F(EngineTest, TwoPaymentsInOneGroupCannotBothTakeTheTerminal) {
  constexpr int kRacers = 8;
  WriterBlocker blocker(*engine_);
  std::vector<std::promise<absl::StatusOr<posd::v1::Payment>>> results(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    engine_->CreatePayment({"ui", "ui"}, QuickSale(i, 100 + i),
                           [&results, i](absl::StatusOr<posd::v1::Payment> payment) {
                             results[i].set_value(std::move(payment));
                           });
  }
  blocker.Release();
  int dispatched = 0;
  for (auto& result : results) {
    absl::StatusOr<posd::v1::Payment> payment = result.get_future().get();
    if (payment.ok()) {
      ++dispatched;
      EXPECT_EQ(payment->status(), posd::v1::PAYMENT_STATUS_DISPATCHED);
      continue;
    }
    EXPECT_THAT(payment, StatusIs(Code::kFailedPrecondition, HasSubstr("busy with")));
    EXPECT_EQ(ReasonOf(payment.status()), ErrorReason::kDeviceNotReady);
    EXPECT_EQ(GetErrorDetails(payment.status())->metadata.at("device_state"), "BUSY");
  }
  EXPECT_EQ(dispatched, 1);
  devices_.WaitIdle();
  EXPECT_EQ(devices_.sales_received(), 1) << "the terminal heard only of the one dispatched";
  // Refused calls recorded nothing: one payment in the database.
  auto list = engine_->queries().ListPayments({});
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->payments_size(), 1);
}

TEST_F(EngineTest, TheTerminalIsFreeByTheTimeTheOutcomeIsVisible) {
  devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
  for (int i = 0; i < 50; ++i) {
    auto payment = Call(&Engine::CreatePayment, QuickSale(i, 100 + i));
    ASSERT_THAT(payment, IsOk()) << "payment " << i;
    ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  }
  EXPECT_EQ(devices_.sales_received(), 50);
}

TEST_F(EngineTest, ATipNearTwoToTheSixtyThreeIsRefusedBeforeAnyTerminalHearsOfIt) {
  posd::v1::Order order = PlacedOrder(1000);
  auto refused = Pay(order.id(), 1000, std::numeric_limits<int64_t>::max() - 500);
  EXPECT_THAT(refused, StatusIs(Code::kInvalidArgument, HasSubstr("payment.tip")));
  EXPECT_EQ(GetErrorDetails(refused.status())->metadata.at("field"), "payment.tip");
  EXPECT_THAT(Call(&Engine::CreatePayment, QuickSale(1, core::kMaxAmountMinor + 1)),
              StatusIs(Code::kInvalidArgument, HasSubstr("payment.amount")));
  devices_.WaitIdle();
  EXPECT_EQ(devices_.sales_received(), 0);
  auto list = engine_->queries().ListPayments({});
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->payments_size(), 0);
}

TEST_F(EngineTest, AQuickSaleNeedsACurrency) {
  posd::v1::CreatePaymentRequest request = QuickSale(1, 100);
  request.mutable_payment()->mutable_amount()->clear_currency_code();
  auto refused = Call(&Engine::CreatePayment, request);
  EXPECT_THAT(refused, StatusIs(Code::kInvalidArgument, HasSubstr("quick sale")));
  EXPECT_EQ(GetErrorDetails(refused.status())->metadata.at("field"),
            "payment.amount.currency_code");
  devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
  auto sale = Call(&Engine::CreatePayment, QuickSale(2, 450));
  ASSERT_THAT(sale, IsOk());
  EXPECT_TRUE(sale->order_id().empty());
  EXPECT_TRUE(WaitForPayment(sale->id(), posd::v1::PAYMENT_STATUS_APPROVED));
}

TEST_F(EngineTest, ADeclaredPartialApprovalIsApprovedForWhatWasCharged) {
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000, 100);
  ASSERT_THAT(payment, IsOk());
  devices_.WaitIdle();
  devices_.CompleteEdited(payment->id(), TransactionOutcome::kApproved,
                          [](TransactionResult& result) {
                            result.amount_minor = 500;
                            result.partial_approval_declared = true;
                          });
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
  auto approved = engine_->queries().GetPayment(payment->id());
  ASSERT_THAT(approved, IsOk());
  EXPECT_EQ(approved->amount().amount_minor(), 1000);  // what was asked stays
  EXPECT_EQ(approved->charged_amount().amount_minor(), 600);
  auto paid = engine_->queries().GetOrder(order.id());
  ASSERT_THAT(paid, IsOk());
  EXPECT_EQ(paid->status(), posd::v1::ORDER_STATUS_PARTIALLY_PAID);
  EXPECT_EQ(paid->amount_paid().amount_minor(), 500);
  EXPECT_EQ(paid->amount_due().amount_minor(), 500);

  // A refund above what was charged is refused before the terminal hears of it.
  const int sales = devices_.sales_received();
  posd::v1::RefundPaymentRequest refund;
  refund.set_request_id("refund-too-much");
  refund.set_payment_id(payment->id());
  refund.set_reason("customer asked");
  refund.mutable_amount()->set_amount_minor(601);
  refund.mutable_amount()->set_currency_code("EUR");
  auto refused = Call(&Engine::RefundPayment, refund);
  EXPECT_THAT(refused, StatusIs(Code::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(refused.status()), ErrorReason::kAmountTooLarge);
  refund.set_request_id("refund-all");
  refund.clear_amount();
  devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
  auto whole = Call(&Engine::RefundPayment, refund);
  ASSERT_THAT(whole, IsOk());
  EXPECT_EQ(whole->amount().amount_minor(), 600);
  EXPECT_TRUE(WaitForRefund(whole->id(), posd::v1::REFUND_STATUS_SUCCEEDED));
  EXPECT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_REFUNDED));
  EXPECT_EQ(devices_.ledger().at(whole->id()).amount_minor, 600);
  EXPECT_EQ(devices_.sales_received(), sales);
}

// A terminal whose approval does not fit the sale: the payment is held
// IN_DOUBT with AMOUNT_MISMATCH, never APPROVED, and the order counts nothing.
class LyingTerminalTest : public EngineTest,
                          public ::testing::WithParamInterface<
                              std::pair<const char*, void (*)(TransactionResult&)>> {};

TEST_P(LyingTerminalTest, ALieHoldsThePaymentInDoubt) {
  posd::v1::Order order = PlacedOrder(1000);
  auto payment = Pay(order.id(), 1000);
  ASSERT_THAT(payment, IsOk());
  devices_.WaitIdle();
  devices_.CompleteEdited(payment->id(), TransactionOutcome::kApproved, GetParam().second);
  ASSERT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_IN_DOUBT));
  auto held = engine_->queries().GetPayment(payment->id());
  ASSERT_THAT(held, IsOk());
  EXPECT_THAT(held->failure_reason(), StartsWith(std::string(kAmountMismatchPrefix)));
  EXPECT_THAT(held->failure_reason(), HasSubstr(GetParam().first));
  EXPECT_FALSE(held->has_charged_amount());
  auto unpaid = engine_->queries().GetOrder(order.id());
  ASSERT_THAT(unpaid, IsOk());
  EXPECT_EQ(unpaid->amount_paid().amount_minor(), 0);
  // The terminal is free for the operator's next steps; the order is blocked
  // until the doubt is settled.
  EXPECT_THAT(Pay(order.id(), 1000), StatusIs(Code::kFailedPrecondition, HasSubstr("IN_DOUBT")));
}

INSTANTIATE_TEST_SUITE_P(
    Lies, LyingTerminalTest,
    ::testing::Values(
        std::make_pair("names transaction",
                       +[](TransactionResult& r) { r.reported_transaction_id = "pay_other"; }),
        std::make_pair("USD", +[](TransactionResult& r) { r.currency = "USD"; }),
        std::make_pair("more than", +[](TransactionResult& r) { r.amount_minor = 1001; }),
        std::make_pair("did not declare partial",
                       +[](TransactionResult& r) { r.amount_minor = 500; }),
        std::make_pair("tip", +[](TransactionResult& r) { r.tip_minor = 9'000'000'000'000'000'000; })));

}  // namespace
}  // namespace posd::engine::testing
