#include "service/core/payment_state_machine.h"

#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::core {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using S = PaymentState;
using E = PaymentEvent;

// The expected machine, written independently of the implementation's rows:
// one line per state, one column per event, "--" for a refused event. The
// column and row orders are this test's own, not the enums'.
const std::vector<E> kColumns = {
    E::kDispatch,       E::kTerminalAcknowledged,     E::kProgress,
    E::kApproved,       E::kDeclined,                 E::kCanceled,
    E::kFailed,         E::kLinkLost,                 E::kTimedOut,
    E::kCrashed,        E::kStatusQueryApproved,      E::kStatusQueryDeclined,
    E::kStatusQueryNotFound, E::kStatusQueryInProgress, E::kOperatorResolvedApproved,
    E::kOperatorResolvedDeclined, E::kRefundCompletedPartial, E::kRefundCompletedFull,
    E::kCancelRequested,      E::kResultMismatch,
};

// Abbreviations: CR CREATED, DI DISPATCHED, AU AUTHORIZING, AP APPROVED,
// DE DECLINED, CA CANCELED, FA FAILED, ID IN_DOUBT, PR PARTIALLY_REFUNDED,
// RE REFUNDED.
//
//   state Dsp Ack Prg App Dcl Cnl Fal Lnk Tmo Crs QAp QDc QNf QIp OAp ODc RfP RfF CnR RMm
constexpr const char* kExpected = R"(
   CR    DI  --  --  --  --  --  FA  FA  FA  FA  --  --  --  --  --  --  --  --  CA  --
   DI    --  AU  AU  AP  DE  CA  FA  ID  ID  ID  AP  DE  --  AU  --  --  --  --  DI  ID
   AU    --  AU  AU  AP  DE  CA  FA  ID  ID  ID  AP  DE  --  AU  --  --  --  --  AU  ID
   ID    --  AU  AU  AP  DE  CA  --  ID  ID  ID  AP  DE  FA  AU  AP  DE  --  --  --  ID
   AP    --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  PR  RE  --  --
   PR    --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  PR  RE  --  --
   DE    --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --
   CA    --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --
   FA    --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --
   RE    --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --  --
)";

const std::map<std::string, S> kAbbreviations = {
    {"CR", S::kCreated},  {"DI", S::kDispatched}, {"AU", S::kAuthorizing},
    {"AP", S::kApproved}, {"DE", S::kDeclined},   {"CA", S::kCanceled},
    {"FA", S::kFailed},   {"ID", S::kInDoubt},    {"PR", S::kPartiallyRefunded},
    {"RE", S::kRefunded},
};

using Expectation = std::map<std::pair<S, E>, std::optional<S>>;

Expectation ParseExpected() {
  Expectation expected;
  std::istringstream lines(kExpected);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream cells(line);
    std::string from;
    if (!(cells >> from)) continue;
    for (E event : kColumns) {
      std::string cell;
      cells >> cell;
      expected[{kAbbreviations.at(from), event}] =
          cell == "--" ? std::nullopt : std::optional<S>(kAbbreviations.at(cell));
    }
    std::string extra;
    EXPECT_FALSE(cells >> extra) << "too many cells in: " << line;
  }
  return expected;
}

TEST(PaymentStateMachineTest, ExpectationCoversEveryStateAndEvent) {
  // If an enum value is added, this fails until the matrix above has it.
  EXPECT_EQ(kColumns.size(), kAllPaymentEvents.size());
  EXPECT_EQ(std::set<E>(kColumns.begin(), kColumns.end()).size(), kAllPaymentEvents.size());
  const Expectation expected = ParseExpected();
  EXPECT_EQ(expected.size(), kAllPaymentStates.size() * kAllPaymentEvents.size());
}

TEST(PaymentStateMachineTest, EveryStateTimesEveryEventMatchesTheExpectation) {
  const Expectation expected = ParseExpected();
  int allowed = 0;
  for (S state : kAllPaymentStates) {
    for (E event : kAllPaymentEvents) {
      SCOPED_TRACE(::testing::Message() << state << " x " << event);
      const auto it = expected.find({state, event});
      ASSERT_NE(it, expected.end());
      const absl::StatusOr<S> next = NextPaymentState(state, event);
      if (it->second.has_value()) {
        ++allowed;
        ASSERT_THAT(next, IsOk());
        EXPECT_EQ(*next, *it->second);
      } else {
        EXPECT_THAT(next, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(std::string("payment in state ") +
                                             std::string(ToString(state)) +
                                             " cannot take event " +
                                             std::string(ToString(event)))));
      }
    }
  }
  // The published table has exactly the allowed pairs, no more.
  EXPECT_EQ(PaymentTransitions().size(), static_cast<size_t>(allowed));
}

TEST(PaymentStateMachineTest, ErrorMessageNamesStateAndEvent) {
  EXPECT_THAT(NextPaymentState(S::kApproved, E::kDispatch),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "payment in state APPROVED cannot take event Dispatch"));
  EXPECT_THAT(NextPaymentState(S::kApproved, E::kCancelRequested),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refunded instead")));
  EXPECT_THAT(NextPaymentState(S::kInDoubt, E::kCancelRequested),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("resolve the outcome")));
}

TEST(PaymentStateMachineTest, InDoubtIsEnteredOnlyWhereTheTerminalMayHaveCharged) {
  for (const PaymentTransition& t : PaymentTransitions()) {
    if (t.to == S::kInDoubt) {
      EXPECT_TRUE(t.from == S::kDispatched || t.from == S::kAuthorizing || t.from == S::kInDoubt)
          << t.from << " --" << t.event << "--> IN_DOUBT";
    }
  }
}

TEST(PaymentStateMachineTest, TerminalStatesTakeOnlyRefunds) {
  for (const PaymentTransition& t : PaymentTransitions()) {
    if (IsTerminal(t.from)) {
      EXPECT_TRUE(t.event == E::kRefundCompletedPartial || t.event == E::kRefundCompletedFull)
          << t.from << " --" << t.event << "-->";
      EXPECT_TRUE(WasApproved(t.to));
    }
  }
}

TEST(PaymentStateMachineTest, OnlyTheTerminalOrAnOperatorEndsADoubt) {
  const std::set<E> may_leave = {
      E::kTerminalAcknowledged,     E::kProgress,
      E::kApproved,                 E::kDeclined,
      E::kCanceled,                 E::kStatusQueryApproved,
      E::kStatusQueryDeclined,      E::kStatusQueryNotFound,
      E::kStatusQueryInProgress,    E::kOperatorResolvedApproved,
      E::kOperatorResolvedDeclined,
  };
  for (E event : kAllPaymentEvents) {
    const absl::StatusOr<S> next = NextPaymentState(S::kInDoubt, event);
    const bool leaves = next.ok() && *next != S::kInDoubt;
    EXPECT_EQ(leaves, may_leave.contains(event)) << event;
  }
}

TEST(PaymentStateMachineTest, FinalStatesAcceptNothing) {
  for (S state : kAllPaymentStates) {
    bool accepts_any = false;
    for (E event : kAllPaymentEvents) accepts_any |= NextPaymentState(state, event).ok();
    EXPECT_EQ(IsFinal(state), !accepts_any) << state;
  }
}

TEST(PaymentStateMachineTest, Predicates) {
  const std::set<S> terminal = {S::kApproved, S::kDeclined, S::kCanceled,
                                S::kFailed,   S::kPartiallyRefunded, S::kRefunded};
  const std::set<S> final_states = {S::kDeclined, S::kCanceled, S::kFailed, S::kRefunded};
  const std::set<S> unknown = {S::kDispatched, S::kAuthorizing, S::kInDoubt};
  const std::set<S> approved = {S::kApproved, S::kPartiallyRefunded, S::kRefunded};
  for (S state : kAllPaymentStates) {
    EXPECT_EQ(IsTerminal(state), terminal.contains(state)) << state;
    EXPECT_EQ(IsFinal(state), final_states.contains(state)) << state;
    EXPECT_EQ(IsOutcomeUnknown(state), unknown.contains(state)) << state;
    EXPECT_EQ(WasApproved(state), approved.contains(state)) << state;
    EXPECT_EQ(MayStartNewPaymentForOrder(state), terminal.contains(state)) << state;
  }
}

TEST(PaymentStateMachineTest, NamesRoundTrip) {
  std::set<std::string_view> names;
  for (S state : kAllPaymentStates) {
    names.insert(ToString(state));
    EXPECT_EQ(*ParsePaymentState(ToString(state)), state);
  }
  for (E event : kAllPaymentEvents) {
    names.insert(ToString(event));
    EXPECT_EQ(*ParsePaymentEvent(ToString(event)), event);
  }
  EXPECT_EQ(names.size(), kAllPaymentStates.size() + kAllPaymentEvents.size());
  EXPECT_EQ(ToString(S::kInDoubt), "IN_DOUBT");
  EXPECT_EQ(ToString(E::kStatusQueryNotFound), "StatusQueryNotFound");
  EXPECT_THAT(ParsePaymentState("in_doubt"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePaymentEvent("Bogus"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'Bogus'")));
}

TEST(PaymentStateMachineTest, WalksTheDesignedPaths) {
  auto walk = [](S state, std::initializer_list<E> events) {
    for (E event : events) {
      absl::StatusOr<S> next = NextPaymentState(state, event);
      EXPECT_THAT(next, IsOk()) << state << " x " << event;
      if (!next.ok()) break;
      state = *next;
    }
    return state;
  };
  EXPECT_EQ(walk(S::kCreated, {E::kDispatch, E::kTerminalAcknowledged, E::kProgress,
                               E::kApproved, E::kRefundCompletedPartial,
                               E::kRefundCompletedPartial, E::kRefundCompletedFull}),
            S::kRefunded);
  EXPECT_EQ(walk(S::kCreated, {E::kDispatch, E::kTerminalAcknowledged, E::kLinkLost,
                               E::kCrashed, E::kStatusQueryInProgress, E::kDeclined}),
            S::kDeclined);
  EXPECT_EQ(walk(S::kCreated, {E::kDispatch, E::kTimedOut, E::kOperatorResolvedApproved}),
            S::kApproved);
  EXPECT_EQ(walk(S::kCreated, {E::kDispatch, E::kCrashed, E::kStatusQueryNotFound}),
            S::kFailed);
  EXPECT_EQ(walk(S::kCreated, {E::kCrashed}), S::kFailed);
  EXPECT_EQ(walk(S::kCreated, {E::kDispatch, E::kCancelRequested, E::kCanceled}), S::kCanceled);
}

}  // namespace
}  // namespace posd::core
