// TerminalChannel against a real TerminalEndpoint (with a file ledger) over
// an in-memory transport pair on virtual time: handshake, transactions,
// resend after reconnect, status queries after lost results and terminal
// restarts, duplicate requests answered from the ledger, and every timeout.
#include "service/channel/terminal_channel.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/channel/envelope_codec.h"
#include "service/channel/result_ledger.h"
#include "service/channel/terminal_endpoint.h"
#include "service/channel/testing/loopback_transport.h"
#include "service/channel/testing/virtual_loop.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::channel {
namespace {

using namespace std::chrono_literals;
using ::posd::testing::StatusIs;
using testing::LoopbackPair;
using testing::VirtualLoop;
using Kind = TransactionOutcome::Kind;

class Recorder final : public TerminalChannelListener {
 public:
  void OnTerminalReady(const TerminalIdentity& terminal, bool restarted) override {
    ++ready;
    identity = terminal;
    if (restarted) ++restarts;
  }
  void OnTerminalLost(std::string_view reason) override { lost.emplace_back(reason); }
  void OnProgress(const v1::Progress& p) override { progress[p.transaction_id()].push_back(p.stage()); }
  void OnInDoubt(std::string_view id, std::string_view) override { in_doubt.emplace_back(id); }
  void OnOutcome(const TransactionOutcome& outcome) override {
    ++outcome_calls[outcome.transaction_id];
    outcomes[outcome.transaction_id] = outcome;
  }
  void OnDeviceInfo(const v1::DeviceInfo& info) override { device_info = info; }

  int ready = 0;
  int restarts = 0;
  TerminalIdentity identity;
  std::vector<std::string> lost;
  std::vector<std::string> in_doubt;
  std::map<std::string, std::vector<v1::ProgressStage>> progress;
  std::map<std::string, TransactionOutcome> outcomes;
  std::map<std::string, int> outcome_calls;
  std::optional<v1::DeviceInfo> device_info;
};

// Amount-driven plans, like the simulator's rules, plus switchable faults.
class TestHooks final : public TerminalEndpointHooks {
 public:
  TransactionPlan Plan(const ledger::Started& request) override {
    TransactionPlan plan;
    switch (request.amount_minor() % 100) {
      case 51:
        plan.outcome = v1::OUTCOME_DECLINED;
        plan.reason_code = "51";
        plan.reason_text = "insufficient funds";
        break;
      case 53: plan.extra_processing = 200s; break;
      case 54: plan.customer_cancels = true; break;
      case 55: plan.masked_pan = "4111111111111111"; break;  // a careless terminal
      default: break;
    }
    return plan;
  }
  AfterRecord AfterRecorded(const v1::Result&) override { return after; }
  bool AnswerHeartbeat() override { return answer_heartbeats; }

  AfterRecord after = AfterRecord::kAnswer;
  bool answer_heartbeats = true;
};

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ledger = ResultLedger::Open(dir_.File("ledger"), loop_.clock());
    POSD_ASSERT_OK(ledger);
    ledger_ = *std::move(ledger);
    BootTerminal(1001);
    options_.session_epoch = 77;
    StartChannel();
    pair_.Connect();
  }

  void BootTerminal(uint64_t epoch) {
    TerminalEndpointOptions options;
    options.session_epoch = epoch;
    options.device_id = "T-1";
    options.model = "SIM";
    auto endpoint = TerminalEndpoint::Create(options, pair_.terminal(), loop_, loop_.clock(),
                                             *ledger_, hooks_);
    POSD_ASSERT_OK(endpoint);
    endpoint_ = *std::move(endpoint);
    endpoint_->Start();
  }

  void StartChannel() {
    auto channel = TerminalChannel::Create(options_, pair_.controller(), loop_, loop_.clock(),
                                           recorder_);
    POSD_ASSERT_OK(channel);
    channel_ = *std::move(channel);
    channel_->Start();
  }

  // The terminal loses power: its volatile state is gone; the ledger stays.
  void PowerCycleTerminal(uint64_t new_epoch, Duration off_for = 1s) {
    pair_.Disconnect(TransportDownReason::kPeerRestarted);
    pair_.terminal().Close();
    endpoint_.reset();
    loop_.RunFor(off_for);
    BootTerminal(new_epoch);
    pair_.Connect();
  }

  bool RunUntil(const std::function<bool()>& done, Duration limit = 60s) {
    return loop_.RunUntil(done, limit);
  }
  bool Resolved(const std::string& id) { return recorder_.outcomes.count(id) > 0; }
  bool RunUntilResolved(const std::string& id, Duration limit = 60s) {
    return RunUntil([&] { return Resolved(id); }, limit);
  }

  static v1::Sale Sale(std::string id, int64_t amount) {
    v1::Sale sale;
    sale.set_transaction_id(std::move(id));
    sale.set_amount_minor(amount);
    sale.set_currency_code("EUR");
    return sale;
  }

  size_t LedgerApproved() { return ledger_->approved_count(); }
  bool LedgerFinished(std::string_view id) {
    const ledger::LedgerTransaction* t = ledger_->Find(id);
    return t != nullptr && t->has_result();
  }

  posd::testing::TempDir dir_;
  VirtualLoop loop_;
  LoopbackPair pair_{loop_};
  std::unique_ptr<ResultLedger> ledger_;
  TestHooks hooks_;
  std::unique_ptr<TerminalEndpoint> endpoint_;
  TerminalChannelOptions options_;
  Recorder recorder_;
  std::unique_ptr<TerminalChannel> channel_;
};

TEST_F(ChannelTest, HandshakeReportsTheTerminalAndItsDeviceInfo) {
  ASSERT_TRUE(RunUntil([&] { return recorder_.device_info.has_value(); }, 10s));
  EXPECT_TRUE(channel_->ready());
  EXPECT_EQ(recorder_.ready, 1);
  EXPECT_EQ(recorder_.identity.device_id, "T-1");
  EXPECT_EQ(recorder_.identity.model, "SIM");
  EXPECT_EQ(recorder_.identity.session_epoch, 1001u);
  EXPECT_EQ(recorder_.identity.protocol_version, 1u);
  EXPECT_EQ(recorder_.device_info->device_id(), "T-1");
  // Heartbeats keep it up on an idle line.
  loop_.RunFor(60s);
  EXPECT_TRUE(channel_->ready());
  EXPECT_TRUE(recorder_.lost.empty());
}

TEST_F(ChannelTest, SaleHappyPath) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 1250)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  const TransactionOutcome& o = recorder_.outcomes["pay_1"];
  EXPECT_EQ(o.kind, Kind::kResult);
  EXPECT_EQ(o.result.outcome(), v1::OUTCOME_APPROVED);
  EXPECT_EQ(o.result.amount_minor(), 1250);
  EXPECT_EQ(o.result.masked_pan(), "411111******1111");
  EXPECT_FALSE(o.result.approval_code().empty());
  EXPECT_THAT(recorder_.progress["pay_1"],
              ::testing::ElementsAre(v1::PROGRESS_STAGE_WAITING_FOR_CARD,
                                     v1::PROGRESS_STAGE_READING_CARD,
                                     v1::PROGRESS_STAGE_PROCESSING,
                                     v1::PROGRESS_STAGE_APPROVED_SHOWN));
  EXPECT_EQ(LedgerApproved(), 1u);
  EXPECT_FALSE(channel_->IsInFlight("pay_1"));
}

TEST_F(ChannelTest, DeclineAndCustomerCancel) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_d", 1051)));
  ASSERT_TRUE(RunUntilResolved("pay_d"));
  EXPECT_EQ(recorder_.outcomes["pay_d"].result.outcome(), v1::OUTCOME_DECLINED);
  EXPECT_EQ(recorder_.outcomes["pay_d"].result.reason_code(), "51");
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_c", 1054)));
  ASSERT_TRUE(RunUntilResolved("pay_c"));
  EXPECT_EQ(recorder_.outcomes["pay_c"].result.outcome(), v1::OUTCOME_CANCELED);
  EXPECT_EQ(recorder_.outcomes["pay_c"].result.masked_pan(), "");  // no card read
  EXPECT_EQ(LedgerApproved(), 0u);
}

TEST_F(ChannelTest, PosCancelStopsTheSale) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntil([&] { return !recorder_.progress["pay_1"].empty(); }));
  POSD_ASSERT_OK(channel_->Cancel("pay_1"));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_CANCELED);
  EXPECT_THAT(channel_->Cancel("pay_1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(LedgerApproved(), 0u);
}

TEST_F(ChannelTest, CancelBeforeSendingNeverReachesTheTerminal) {
  pair_.Disconnect();
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  POSD_ASSERT_OK(channel_->Cancel("pay_1"));
  EXPECT_EQ(recorder_.outcomes["pay_1"].kind, Kind::kCanceledBeforeSending);
  EXPECT_EQ(ledger_->Find("pay_1"), nullptr);
}

TEST_F(ChannelTest, RejectsBadAndReusedRequests) {
  EXPECT_THAT(channel_->StartSale(Sale("", 100)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(channel_->StartSale(Sale("pay_1", -5)), StatusIs(absl::StatusCode::kInvalidArgument));
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  EXPECT_THAT(channel_->StartSale(Sale("pay_1", 100)), StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  EXPECT_THAT(channel_->StartSale(Sale("pay_1", 100)), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(channel_->QueryTransaction("pay_1"), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(ChannelTest, BusyTerminalRefusesASecondSale) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_2", 200)));
  ASSERT_TRUE(RunUntil([&] { return Resolved("pay_1") && Resolved("pay_2"); }));
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_APPROVED);
  EXPECT_EQ(recorder_.outcomes["pay_2"].kind, Kind::kRefused);
  EXPECT_EQ(recorder_.outcomes["pay_2"].error.code(), v1::ERROR_CODE_BUSY);
  EXPECT_EQ(ledger_->Find("pay_2"), nullptr);
}

TEST_F(ChannelTest, RefundsAnApprovedSaleOnly) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 1000)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  v1::Refund refund;
  refund.set_transaction_id("ref_1");
  refund.set_original_transaction_id("pay_1");
  refund.set_amount_minor(400);
  refund.set_currency_code("EUR");
  POSD_ASSERT_OK(channel_->StartRefund(refund));
  ASSERT_TRUE(RunUntilResolved("ref_1"));
  EXPECT_EQ(recorder_.outcomes["ref_1"].result.outcome(), v1::OUTCOME_APPROVED);
  refund.set_transaction_id("ref_2");
  refund.set_amount_minor(700);  // only 600 remain
  POSD_ASSERT_OK(channel_->StartRefund(refund));
  ASSERT_TRUE(RunUntilResolved("ref_2"));
  EXPECT_EQ(recorder_.outcomes["ref_2"].kind, Kind::kRefused);
  EXPECT_EQ(recorder_.outcomes["ref_2"].error.code(), v1::ERROR_CODE_UNKNOWN_TRANSACTION);
}

// The card was charged amount plus tip, so that is what can go back
// (docs/protocol.md, "Transactions"); not a cent more.
TEST_F(ChannelTest, RefundLimitIsWhatTheSaleChargedTipIncluded) {
  v1::Sale sale = Sale("pay_1", 1000);
  sale.set_tip_minor(150);
  POSD_ASSERT_OK(channel_->StartSale(sale));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  ASSERT_EQ(recorder_.outcomes["pay_1"].result.tip_minor(), 150);
  v1::Refund refund;
  refund.set_transaction_id("ref_1");
  refund.set_original_transaction_id("pay_1");
  refund.set_amount_minor(1100);  // more than the amount before tip
  refund.set_currency_code("EUR");
  POSD_ASSERT_OK(channel_->StartRefund(refund));
  ASSERT_TRUE(RunUntilResolved("ref_1"));
  EXPECT_EQ(recorder_.outcomes["ref_1"].kind, Kind::kResult);
  EXPECT_EQ(recorder_.outcomes["ref_1"].result.outcome(), v1::OUTCOME_APPROVED);
  refund.set_transaction_id("ref_2");
  refund.set_amount_minor(51);  // 50 remain
  POSD_ASSERT_OK(channel_->StartRefund(refund));
  ASSERT_TRUE(RunUntilResolved("ref_2"));
  EXPECT_EQ(recorder_.outcomes["ref_2"].kind, Kind::kRefused);
  EXPECT_EQ(recorder_.outcomes["ref_2"].error.code(), v1::ERROR_CODE_UNKNOWN_TRANSACTION);
  EXPECT_EQ(ledger_->Find("ref_2"), nullptr);  // refused before it started
  refund.set_transaction_id("ref_3");
  refund.set_amount_minor(50);
  POSD_ASSERT_OK(channel_->StartRefund(refund));
  ASSERT_TRUE(RunUntilResolved("ref_3"));
  EXPECT_EQ(recorder_.outcomes["ref_3"].result.outcome(), v1::OUTCOME_APPROVED);
}

TEST_F(ChannelTest, NeverPassesMoreThanSixAndFourDigits) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 155)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.masked_pan(), "411111******1111");
  EXPECT_EQ(ledger_->Find("pay_1")->result().masked_pan(), "411111******1111");
}

TEST_F(ChannelTest, ResendsAnUnacknowledgedSaleAfterReconnectWithTheSameMessageId) {
  std::vector<uint64_t> sale_ids;
  pair_.drop = [&](LoopbackPair::Side from, std::span<const uint8_t> bytes) {
    auto envelope = DecodeEnvelope(bytes);
    if (from == LoopbackPair::kController && envelope.ok() && envelope->has_sale()) {
      sale_ids.push_back(envelope->message_id());
      return sale_ids.size() == 1;  // the first copy is lost on the line
    }
    return false;
  };
  ASSERT_TRUE(RunUntil([&] { return channel_->ready(); }));
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  loop_.RunFor(1s);
  pair_.Disconnect();
  loop_.RunFor(1s);
  ASSERT_THAT(recorder_.in_doubt, ::testing::ElementsAre("pay_1"));
  pair_.Connect();
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_APPROVED);
  ASSERT_EQ(sale_ids.size(), 2u);
  EXPECT_EQ(sale_ids[0], sale_ids[1]);
  EXPECT_EQ(LedgerApproved(), 1u);
}

TEST_F(ChannelTest, LostResultIsLearnedByStatusQuery) {
  pair_.drop = [](LoopbackPair::Side from, std::span<const uint8_t> bytes) {
    auto envelope = DecodeEnvelope(bytes);
    return from == LoopbackPair::kTerminal && envelope.ok() && envelope->has_result();
  };
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntilResolved("pay_1", 200s));
  // Found by the query after the transaction deadline, on virtual time.
  EXPECT_GE(loop_.now().time_since_epoch(), 120s);
  EXPECT_EQ(recorder_.outcomes["pay_1"].kind, Kind::kResult);
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_APPROVED);
  EXPECT_EQ(recorder_.outcome_calls["pay_1"], 1);
  EXPECT_EQ(LedgerApproved(), 1u);
}

TEST_F(ChannelTest, ResultLostWithTheLinkIsQueriedAfterReconnect) {
  hooks_.after = AfterRecord::kStaySilent;  // approved, never answered
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntil([&] { return LedgerFinished("pay_1"); }));
  hooks_.after = AfterRecord::kAnswer;
  pair_.Disconnect();
  loop_.RunFor(2s);
  pair_.Connect();
  ASSERT_TRUE(RunUntilResolved("pay_1", 10s));  // well before any deadline
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_APPROVED);
  EXPECT_EQ(LedgerApproved(), 1u);
}

TEST_F(ChannelTest, TerminalPowerLossAfterChargeIsQueriedUnderTheNewEpoch) {
  hooks_.after = AfterRecord::kHalt;  // charged, then the power went
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntil([&] { return endpoint_->halted(); }));
  hooks_.after = AfterRecord::kAnswer;
  PowerCycleTerminal(2002);
  ASSERT_TRUE(RunUntilResolved("pay_1", 20s));
  EXPECT_EQ(recorder_.restarts, 1);
  EXPECT_EQ(recorder_.identity.session_epoch, 2002u);
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_APPROVED);
  EXPECT_EQ(LedgerApproved(), 1u);
}

TEST_F(ChannelTest, TerminalPowerLossBeforeChargeEndsAsErrorWithNothingCharged) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntil([&] { return recorder_.progress["pay_1"].size() >= 2; }));
  PowerCycleTerminal(2002);
  ASSERT_TRUE(RunUntilResolved("pay_1", 20s));
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_ERROR);
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.reason_code(), "E_RESTART");
  EXPECT_EQ(LedgerApproved(), 0u);
}

TEST_F(ChannelTest, DuplicateSaleFromARestartedPosdIsAnsweredFromTheLedger) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  const std::string code = recorder_.outcomes["pay_1"].result.approval_code();
  // posd restarts (new epoch, no memory) and sends the same Sale again.
  channel_.reset();
  pair_.Disconnect();
  recorder_.outcomes.clear();
  options_.session_epoch = 78;
  StartChannel();
  pair_.Connect();
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.approval_code(), code);
  EXPECT_TRUE(recorder_.progress["pay_1"].size() == 4u);  // no second card flow
  EXPECT_EQ(LedgerApproved(), 1u);
  EXPECT_EQ(ledger_->transaction_count(), 1u);
  // The same id with another amount is refused, never charged.
  POSD_ASSERT_OK(channel_->QueryTransaction("pay_x"));
  ASSERT_TRUE(RunUntilResolved("pay_x"));
  EXPECT_EQ(recorder_.outcomes["pay_x"].kind, Kind::kNotFound);
}

TEST_F(ChannelTest, DuplicateIdWithOtherValuesIsRefused) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  channel_.reset();
  pair_.Disconnect();
  options_.session_epoch = 78;
  recorder_.outcomes.clear();
  StartChannel();
  pair_.Connect();
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 999)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  EXPECT_EQ(recorder_.outcomes["pay_1"].kind, Kind::kRefused);
  EXPECT_EQ(recorder_.outcomes["pay_1"].error.code(), v1::ERROR_CODE_DUPLICATE_TRANSACTION);
  EXPECT_EQ(LedgerApproved(), 1u);
}

TEST_F(ChannelTest, QueryAdoptsATransactionFromAnEarlierRun) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  channel_.reset();
  pair_.Disconnect();
  recorder_.outcomes.clear();
  options_.session_epoch = 79;
  StartChannel();
  pair_.Connect();
  POSD_ASSERT_OK(channel_->QueryTransaction("pay_1"));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_APPROVED);
  EXPECT_EQ(ledger_->transaction_count(), 1u);
}

TEST_F(ChannelTest, SlowTransactionIsExtendedByStatusReplies) {
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 153)));  // 200 s in processing
  ASSERT_TRUE(RunUntilResolved("pay_1", 300s));
  EXPECT_EQ(recorder_.outcomes["pay_1"].result.outcome(), v1::OUTCOME_APPROVED);
  EXPECT_TRUE(recorder_.in_doubt.empty());
  EXPECT_GE(loop_.now().time_since_epoch(), 200s);
}

TEST_F(ChannelTest, AcceptTimeoutQueriesAndLearnsTheSaleNeverArrived) {
  pair_.drop = [](LoopbackPair::Side from, std::span<const uint8_t> bytes) {
    auto envelope = DecodeEnvelope(bytes);
    return from == LoopbackPair::kController && envelope.ok() && envelope->has_sale();
  };
  ASSERT_TRUE(RunUntil([&] { return channel_->ready(); }));
  const auto start = loop_.now();
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  ASSERT_TRUE(RunUntilResolved("pay_1"));
  EXPECT_GE(loop_.now() - start, 5s);
  EXPECT_LT(loop_.now() - start, 6s);
  EXPECT_EQ(recorder_.outcomes["pay_1"].kind, Kind::kNotFound);
  EXPECT_EQ(ledger_->Find("pay_1"), nullptr);
}

TEST_F(ChannelTest, MissedHeartbeatsDeclareTheTerminalLost) {
  ASSERT_TRUE(RunUntil([&] { return channel_->ready(); }));
  const auto start = loop_.now();
  hooks_.answer_heartbeats = false;
  ASSERT_TRUE(RunUntil([&] { return !recorder_.lost.empty(); }, 20s));
  // 3 missed heartbeats at 2 s: lost between 6 and 8 s.
  EXPECT_GE(loop_.now() - start, 6s);
  EXPECT_LE(loop_.now() - start, 8s);
  EXPECT_THAT(recorder_.lost[0], ::testing::HasSubstr("heartbeats"));
  EXPECT_EQ(pair_.resets(), 1u);
  hooks_.answer_heartbeats = true;
  ASSERT_TRUE(RunUntil([&] { return recorder_.ready == 2; }, 20s));
}

TEST_F(ChannelTest, HandshakeTimeoutBacksOff) {
  ASSERT_TRUE(RunUntil([&] { return channel_->ready(); }));
  pair_.Disconnect();
  pair_.terminal().Close();
  endpoint_.reset();  // nobody answers Hello
  pair_.Connect();
  loop_.RunFor(60s);
  // Hello at 0, reset at 5 s, then waits of 1, 2, 4, 8, 16 s between tries:
  // (5+1)+(5+2)+(5+4)+(5+8)+(5+16) = 61 s: five resets in the first minute.
  EXPECT_GE(pair_.resets(), 4u);
  EXPECT_LE(pair_.resets(), 5u);
  EXPECT_EQ(recorder_.ready, 1);  // only the handshake before
}

TEST_F(ChannelTest, AnotherTerminalIsRefusedBeforeAnythingInFlightReachesIt) {
  ASSERT_TRUE(RunUntil([&] { return channel_->ready(); }));
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_1", 100)));
  pair_.Disconnect();
  loop_.RunFor(1s);
  // The link comes back to a channel bound to another terminal id: it must
  // neither resend the sale nor query it there.
  channel_.reset();
  options_.expected_terminal_id = "T-2";
  StartChannel();
  POSD_ASSERT_OK(channel_->StartSale(Sale("pay_2", 100)));
  size_t requests_seen = 0;
  pair_.drop = [&](LoopbackPair::Side from, std::span<const uint8_t> bytes) {
    auto envelope = DecodeEnvelope(bytes);
    if (from == LoopbackPair::kController && envelope.ok() &&
        (envelope->has_sale() || envelope->has_status_query())) {
      ++requests_seen;
    }
    return false;
  };
  pair_.Connect();
  loop_.RunFor(10s);
  EXPECT_FALSE(channel_->ready());
  EXPECT_EQ(recorder_.ready, 1);  // only the first channel's handshake
  EXPECT_EQ(requests_seen, 0u);
  EXPECT_GE(pair_.resets(), 1u);
}

// posd as a bare peer, to see exactly what the terminal sends back.
class RawController final : public MessageTransportHandler {
 public:
  void OnTransportUp() override { up = true; }
  void OnTransportDown(TransportDownReason, std::string_view) override { up = false; }
  void OnMessage(std::span<const uint8_t> message) override {
    auto envelope = DecodeEnvelope(message);
    if (envelope.ok()) received.push_back(*std::move(envelope));
  }
  bool up = false;
  std::vector<v1::Envelope> received;
};

// An Error is never answered, in a session or outside one, so two ends
// cannot trade Errors (docs/protocol.md, "Errors"); anything else outside a
// session is answered NOT_READY.
TEST(TerminalEndpointErrors, AnErrorFromPosdIsNeverAnswered) {
  posd::testing::TempDir dir;
  VirtualLoop loop;
  LoopbackPair pair(loop);
  auto ledger = ResultLedger::Open(dir.File("ledger"), loop.clock());
  POSD_ASSERT_OK(ledger);
  TestHooks hooks;
  TerminalEndpointOptions options;
  options.session_epoch = 5;
  auto endpoint =
      TerminalEndpoint::Create(options, pair.terminal(), loop, loop.clock(), **ledger, hooks);
  POSD_ASSERT_OK(endpoint);
  RawController posd;
  pair.controller().Start(&posd);
  (*endpoint)->Start();
  pair.Connect();
  loop.RunFor(100ms);
  ASSERT_TRUE(posd.up);
  const auto send = [&](const v1::Envelope& envelope) {
    POSD_ASSERT_OK(pair.controller().Send(EncodeEnvelope(envelope)));
    loop.RunFor(100ms);
  };
  v1::Envelope error;
  error.set_message_id(1);
  error.mutable_error()->set_code(v1::ERROR_CODE_UNKNOWN_BODY);
  send(error);  // before any Hello
  EXPECT_THAT(posd.received, ::testing::IsEmpty());
  v1::Envelope heartbeat;
  heartbeat.set_message_id(2);
  heartbeat.mutable_heartbeat();
  send(heartbeat);
  ASSERT_EQ(posd.received.size(), 1u);
  EXPECT_EQ(posd.received[0].error().code(), v1::ERROR_CODE_NOT_READY);
  v1::Envelope hello;
  hello.set_message_id(3);
  hello.mutable_hello()->set_session_epoch(9);
  hello.mutable_hello()->set_protocol_version(1);
  hello.mutable_hello()->set_min_protocol_version(1);
  send(hello);
  ASSERT_EQ(posd.received.size(), 2u);
  EXPECT_TRUE(posd.received[1].has_hello_ack());
  error.set_message_id(4);
  error.set_correlation_id(posd.received[1].message_id());
  send(error);  // in the session
  EXPECT_EQ(posd.received.size(), 2u);
  EXPECT_TRUE((*endpoint)->in_session());
}

TEST(TerminalChannelOptions, Validates) {
  TerminalChannelOptions options;
  POSD_EXPECT_OK(ValidateTerminalChannelOptions(options));
  options.heartbeat_max_missed = 0;
  EXPECT_THAT(ValidateTerminalChannelOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options = {};
  options.accept_timeout = Duration::zero();
  EXPECT_THAT(ValidateTerminalChannelOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("accept_timeout")));
}

}  // namespace
}  // namespace posd::channel
