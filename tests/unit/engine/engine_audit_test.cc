// The audit log of the engine's operator actions: each succeeded action
// with its request_id, each refused one once with its error and nothing else
// of it stored, replays never doubling a record.
#include <future>

#include "service/store/database.h"
#include "tests/unit/engine/engine_fixture.h"

namespace posd::engine::testing {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Code = absl::StatusCode;
using posd::v1::AuditRecord;

// Vetoes every refund, as a beforeRefund plugin outside its refund window
// would; no other hooks.
class RefundVeto final : public HookPoints {
 public:
  absl::Status BeforeOrder(const BeforeOrderContext&, posd::v1::Order&) override {
    return absl::OkStatus();
  }
  absl::Status BeforePayment(const BeforePaymentContext&, const posd::v1::Order*,
                             posd::v1::Payment&) override {
    return absl::OkStatus();
  }
  absl::Status BeforeRefund(std::chrono::system_clock::time_point, const posd::v1::Order*,
                            const posd::v1::Payment&, const posd::v1::Refund&) override {
    return absl::FailedPreconditionError("plugin window: refunds close after 30 days");
  }
  std::vector<hooks::PlannedHookRun> PlanAfterRuns(hooks::HookPoint,
                                                   std::string_view) const override {
    return {};
  }
};

class EngineAuditTest : public EngineTest {
 protected:
  // Everything of the audit log, newest first.
  std::vector<AuditRecord> Audit(posd::v1::ListAuditRecordsRequest request = {}) {
    request.set_page_size(500);
    auto page = engine_->queries().ListAuditRecords(request);
    EXPECT_THAT(page, IsOk());
    if (!page.ok()) return {};
    return {page->audit_records().begin(), page->audit_records().end()};
  }

  // An APPROVED payment of 1200 EUR (1000 and a tip of 200).
  posd::v1::Payment ApprovedPayment() {
    devices_.SetAutoOutcome("counter-1", TransactionOutcome::kApproved);
    posd::v1::Order order = PlacedOrder(1000);
    auto payment = Pay(order.id(), 1000, 200);
    EXPECT_THAT(payment, IsOk());
    EXPECT_TRUE(WaitForPayment(payment->id(), posd::v1::PAYMENT_STATUS_APPROVED));
    return *engine_->queries().GetPayment(payment->id());
  }

  posd::v1::RefundPaymentRequest RefundRequest(const std::string& payment_id, int64_t amount) {
    posd::v1::RefundPaymentRequest refund;
    refund.set_request_id("refund-" + std::to_string(++request_counter_));
    refund.set_payment_id(payment_id);
    refund.set_reason("wrong item");
    refund.mutable_amount()->set_amount_minor(amount);
    refund.mutable_amount()->set_currency_code("EUR");
    return refund;
  }

  uint64_t Head() {
    auto head = engine_->queries().HeadSequence();
    EXPECT_THAT(head, IsOk());
    return head.ok() ? *head : 0;
  }

  int64_t Count(std::string_view sql) {
    auto reader = store_->OpenReader();
    EXPECT_THAT(reader, IsOk());
    if (!reader.ok()) return -1;
    auto count = (*reader)->QueryInt64(sql);
    EXPECT_THAT(count, IsOk());
    return count.ok() ? *count : -1;
  }

  // Checks that `records` holds exactly one record, the refusal of `action`
  // on `subject` by `request_id` with `error`.
  static void ExpectOneRefusal(const std::vector<AuditRecord>& records,
                               posd::v1::AuditAction action, const std::string& subject,
                               const std::string& request_id, const absl::Status& error) {
    ASSERT_EQ(records.size(), 1u);
    const AuditRecord& record = records[0];
    EXPECT_EQ(record.outcome(), posd::v1::AUDIT_OUTCOME_REFUSED);
    EXPECT_EQ(record.action(), action);
    EXPECT_EQ(record.subject_id(), subject);
    EXPECT_EQ(record.request_id(), request_id);
    EXPECT_EQ(record.error_message(), error.message());
    EXPECT_THAT(record.details_json(),
                HasSubstr(absl::StatusCodeToString(error.code())));
  }
};

TEST_F(EngineAuditTest, ASucceededActionIsRecordedWithItsRequestId) {
  const posd::v1::Payment payment = ApprovedPayment();
  const auto request = RefundRequest(payment.id(), 300);
  auto refund = Call(&Engine::RefundPayment, request, Actor{"anna", "operator"});
  ASSERT_THAT(refund, IsOk());
  const auto records = Audit();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome(), posd::v1::AUDIT_OUTCOME_SUCCEEDED);
  EXPECT_EQ(records[0].action(), posd::v1::AUDIT_ACTION_REFUND_PAYMENT);
  EXPECT_EQ(records[0].request_id(), request.request_id());
  EXPECT_EQ(records[0].subject_id(), payment.id());
  EXPECT_EQ(records[0].actor().principal(), "anna");
  EXPECT_EQ(records[0].reason(), "wrong item");
  EXPECT_THAT(records[0].error_message(), IsEmpty());
}

TEST_F(EngineAuditTest, AReplayAddsNoRecord) {
  const posd::v1::Payment payment = ApprovedPayment();
  const auto request = RefundRequest(payment.id(), 300);
  auto first = Call(&Engine::RefundPayment, request);
  ASSERT_THAT(first, IsOk());
  auto again = Call(&Engine::RefundPayment, request);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->id(), first->id());
  posd::v1::CancelOrderRequest cancel;
  cancel.set_request_id("cancel-order");
  cancel.set_order_id(PlacedOrder(500).id());
  cancel.set_reason("customer left");
  ASSERT_THAT(Call(&Engine::CancelOrder, cancel), IsOk());
  ASSERT_THAT(Call(&Engine::CancelOrder, cancel), IsOk());
  const auto records = Audit();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].request_id(), "cancel-order");
  EXPECT_EQ(records[1].request_id(), request.request_id());
  EXPECT_EQ(records[0].outcome(), posd::v1::AUDIT_OUTCOME_SUCCEEDED);
  EXPECT_EQ(records[1].outcome(), posd::v1::AUDIT_OUTCOME_SUCCEEDED);
}

TEST_F(EngineAuditTest, ARefundAboveTheCapturedAmountIsRecordedOnceAndStoresNothingElse) {
  const posd::v1::Payment payment = ApprovedPayment();
  const uint64_t head = Head();
  const auto request = RefundRequest(payment.id(), 1201);  // 1200 captured
  auto refused = Call(&Engine::RefundPayment, request, Actor{"anna", "operator"});
  ASSERT_THAT(refused, StatusIs(Code::kFailedPrecondition));
  const auto records = Audit();
  ExpectOneRefusal(records, posd::v1::AUDIT_ACTION_REFUND_PAYMENT, payment.id(),
                   request.request_id(), refused.status());
  EXPECT_EQ(records[0].actor().principal(), "anna");
  EXPECT_EQ(records[0].actor().role(), posd::v1::ROLE_OPERATOR);
  EXPECT_EQ(records[0].reason(), "wrong item");
  EXPECT_EQ(Head(), head);  // no event
  EXPECT_EQ(Count("SELECT count(*) FROM refunds"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM idempotency_keys WHERE request_id LIKE 'refund-%'"), 0);
  auto after = engine_->queries().GetPayment(payment.id());
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->SerializeAsString(), payment.SerializeAsString());
}

TEST_F(EngineAuditTest, AResolutionOfAPaymentNotInDoubtIsRecorded) {
  const posd::v1::Payment payment = ApprovedPayment();
  const uint64_t head = Head();
  posd::v1::ResolvePaymentRequest resolve;
  resolve.set_request_id("resolve-approved");
  resolve.set_payment_id(payment.id());
  resolve.set_outcome(posd::v1::RESOLUTION_OUTCOME_DECLINED);
  resolve.set_reason("the customer says so");
  auto refused = Call(&Engine::ResolvePayment, resolve);
  ASSERT_THAT(refused, StatusIs(Code::kFailedPrecondition, HasSubstr("not IN_DOUBT")));
  ExpectOneRefusal(Audit(), posd::v1::AUDIT_ACTION_RESOLVE_PAYMENT, payment.id(),
                   "resolve-approved", refused.status());
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(engine_->queries().GetPayment(payment.id())->SerializeAsString(),
            payment.SerializeAsString());
}

TEST_F(EngineAuditTest, ACancelOfAFinalPaymentIsRecorded) {
  const posd::v1::Payment payment = ApprovedPayment();
  const uint64_t head = Head();
  posd::v1::CancelPaymentRequest cancel;
  cancel.set_request_id("cancel-approved");
  cancel.set_payment_id(payment.id());
  cancel.set_reason("too late");
  auto refused = Call(&Engine::CancelPayment, cancel, Actor{"kiosk", "ui"});
  ASSERT_THAT(refused, StatusIs(Code::kFailedPrecondition));
  const auto records = Audit();
  ExpectOneRefusal(records, posd::v1::AUDIT_ACTION_CANCEL_PAYMENT, payment.id(),
                   "cancel-approved", refused.status());
  EXPECT_EQ(records[0].actor().role(), posd::v1::ROLE_UI);
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(engine_->queries().GetPayment(payment.id())->SerializeAsString(),
            payment.SerializeAsString());
}

TEST_F(EngineAuditTest, AValidationRefusalIsRecorded) {
  const posd::v1::Payment payment = ApprovedPayment();
  auto request = RefundRequest(payment.id(), 300);
  request.clear_reason();
  auto refused = Call(&Engine::RefundPayment, request);
  ASSERT_THAT(refused, StatusIs(Code::kInvalidArgument, HasSubstr("reason")));
  ExpectOneRefusal(Audit(), posd::v1::AUDIT_ACTION_REFUND_PAYMENT, payment.id(),
                   request.request_id(), refused.status());
  EXPECT_EQ(Count("SELECT count(*) FROM refunds"), 0);
}

TEST_F(EngineAuditTest, ARoleThatMayNotRefundIsRecorded) {
  const posd::v1::Payment payment = ApprovedPayment();
  const auto request = RefundRequest(payment.id(), 300);
  auto refused = Call(&Engine::RefundPayment, request, Actor{"kiosk", "ui"});
  ASSERT_THAT(refused, StatusIs(Code::kPermissionDenied));
  const auto records = Audit();
  ExpectOneRefusal(records, posd::v1::AUDIT_ACTION_REFUND_PAYMENT, payment.id(),
                   request.request_id(), refused.status());
  EXPECT_EQ(records[0].actor().principal(), "kiosk");
  EXPECT_EQ(records[0].actor().role(), posd::v1::ROLE_UI);
  EXPECT_EQ(Count("SELECT count(*) FROM refunds"), 0);
}

// A refused call stored nothing, so a retry with its request_id is a new
// attempt (it may succeed now) and is recorded again.
TEST_F(EngineAuditTest, ARetryOfARefusedCallIsANewAttempt) {
  const posd::v1::Payment payment = ApprovedPayment();
  const auto request = RefundRequest(payment.id(), 1201);
  ASSERT_THAT(Call(&Engine::RefundPayment, request), StatusIs(Code::kFailedPrecondition));
  ASSERT_THAT(Call(&Engine::RefundPayment, request), StatusIs(Code::kFailedPrecondition));
  const auto records = Audit();
  ASSERT_EQ(records.size(), 2u);
  for (const auto& record : records) {
    EXPECT_EQ(record.outcome(), posd::v1::AUDIT_OUTCOME_REFUSED);
    EXPECT_EQ(record.request_id(), request.request_id());
  }
}

TEST_F(EngineAuditTest, CommandsThatAreNotOperatorActionsAreNotAudited) {
  posd::v1::PlaceOrderRequest place;
  place.set_request_id("place-nothing");
  place.set_order_id("ord_missing");
  EXPECT_THAT(Call(&Engine::PlaceOrder, place), StatusIs(Code::kNotFound));
  EXPECT_THAT(Audit(), IsEmpty());
}

TEST_F(EngineAuditTest, RecordRefusalWritesTheRefusalTheApiDecided) {
  std::promise<absl::Status> written;
  engine_->RecordRefusal(
      Refusal{.actor = Actor{"10.0.0.5:1234 (ui token)", "ui"},
              .action = "resolve_payment",
              .subject = "pay_1",
              .reason = "receipt",
              .request_id = "api-refused",
              .error = absl::PermissionDeniedError("the ui role may not resolve a payment by hand")},
      [&written](const absl::Status& status) { written.set_value(status); });
  ASSERT_THAT(written.get_future().get(), IsOk());
  const auto records = Audit();
  ExpectOneRefusal(records, posd::v1::AUDIT_ACTION_RESOLVE_PAYMENT, "pay_1", "api-refused",
                   absl::PermissionDeniedError("the ui role may not resolve a payment by hand"));
  EXPECT_EQ(records[0].actor().role(), posd::v1::ROLE_UI);
  EXPECT_EQ(records[0].reason(), "receipt");

  std::promise<absl::Status> not_an_error;
  engine_->RecordRefusal(Refusal{.actor = Actor{"x", "ui"},
                                 .action = "resolve_payment",
                                 .subject = "pay_1",
                                 .reason = "",
                                 .request_id = "ok",
                                 .error = absl::OkStatus()},
                         [&](const absl::Status& status) { not_an_error.set_value(status); });
  EXPECT_THAT(not_an_error.get_future().get(), StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(Audit().size(), 1u);
}

TEST_F(EngineAuditTest, ListAuditRecordsFiltersByOutcome) {
  const posd::v1::Payment payment = ApprovedPayment();
  ASSERT_THAT(Call(&Engine::RefundPayment, RefundRequest(payment.id(), 300)), IsOk());
  ASSERT_THAT(Call(&Engine::RefundPayment, RefundRequest(payment.id(), 5000)),
              StatusIs(Code::kFailedPrecondition));
  posd::v1::ListAuditRecordsRequest refused;
  refused.set_outcome(posd::v1::AUDIT_OUTCOME_REFUSED);
  ASSERT_EQ(Audit(refused).size(), 1u);
  EXPECT_EQ(Audit(refused)[0].outcome(), posd::v1::AUDIT_OUTCOME_REFUSED);
  posd::v1::ListAuditRecordsRequest succeeded;
  succeeded.set_outcome(posd::v1::AUDIT_OUTCOME_SUCCEEDED);
  ASSERT_EQ(Audit(succeeded).size(), 1u);
  EXPECT_EQ(Audit(succeeded)[0].outcome(), posd::v1::AUDIT_OUTCOME_SUCCEEDED);
  posd::v1::ListAuditRecordsRequest invalid;
  invalid.set_outcome(static_cast<posd::v1::AuditOutcome>(7));
  EXPECT_THAT(engine_->queries().ListAuditRecords(invalid), StatusIs(Code::kInvalidArgument));
}

// The caller hears the command's own error even when its refusal cannot be
// written (here a trigger refuses it, as a full disk would).
TEST_F(EngineAuditTest, ARefusalThatCannotBeWrittenKeepsTheCallersError) {
  const posd::v1::Payment payment = ApprovedPayment();
  {
    auto db = store::Database::Open(dir_.File("posd.db").string(), {});
    ASSERT_THAT(db, IsOk());
    POSD_ASSERT_OK((*db)->Execute(
        "CREATE TRIGGER no_refusals BEFORE INSERT ON audit_log WHEN NEW.outcome = 'refused' "
        "BEGIN SELECT RAISE(ABORT, 'the audit log takes no refusals'); END"));
  }
  auto refused = Call(&Engine::RefundPayment, RefundRequest(payment.id(), 1201));
  EXPECT_THAT(refused, StatusIs(Code::kFailedPrecondition, HasSubstr("12.01 EUR")));
  EXPECT_THAT(Audit(), IsEmpty());
  // The engine goes on: the next action is recorded.
  ASSERT_THAT(Call(&Engine::RefundPayment, RefundRequest(payment.id(), 300)), IsOk());
  EXPECT_EQ(Audit().size(), 1u);
}

class EngineAuditVetoTest : public EngineAuditTest {
 protected:
  void SetUp() override {
    hooks_ = &veto_;
    EngineAuditTest::SetUp();
  }
  RefundVeto veto_;
};

TEST_F(EngineAuditVetoTest, ABeforeHooksVetoIsRecorded) {
  const posd::v1::Payment payment = ApprovedPayment();
  const uint64_t head = Head();
  const auto request = RefundRequest(payment.id(), 300);
  auto refused = Call(&Engine::RefundPayment, request);
  ASSERT_THAT(refused, StatusIs(Code::kFailedPrecondition, HasSubstr("refunds close")));
  ExpectOneRefusal(Audit(), posd::v1::AUDIT_ACTION_REFUND_PAYMENT, payment.id(),
                   request.request_id(), refused.status());
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(Count("SELECT count(*) FROM refunds"), 0);
  EXPECT_EQ(engine_->queries().GetPayment(payment.id())->SerializeAsString(),
            payment.SerializeAsString());
}

}  // namespace
}  // namespace posd::engine::testing
