#include "service/core/order_state_machine.h"

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
using S = OrderState;
using E = OrderEvent;

// The expected machine, written independently of the implementation's rows.
const std::vector<E> kColumns = {
    E::kPlace,  E::kAddLine, E::kRemoveLine, E::kApplyDiscount, E::kPaymentApprovedPartial,
    E::kPaymentApprovedCovering, E::kCancel, E::kRefundCompletedPartial, E::kRefundCompletedFull,
};

// OP OPEN, PL PLACED, PP PARTIALLY_PAID, PA PAID, CA CANCELED, RE REFUNDED.
//
//   state Plc Add Rem Dsc PyP PyC Cnl RfP RfF
constexpr const char* kExpected = R"(
   OP    PL  OP  OP  OP  --  --  CA  --  --
   PL    --  --  --  PL  PP  PA  CA  --  --
   PP    --  --  --  --  PP  PA  --  PP  RE
   PA    --  --  --  --  --  --  --  PA  RE
   CA    --  --  --  --  --  --  --  --  --
   RE    --  --  --  --  --  --  --  --  --
)";

const std::map<std::string, S> kAbbreviations = {
    {"OP", S::kOpen}, {"PL", S::kPlaced},   {"PP", S::kPartiallyPaid},
    {"PA", S::kPaid}, {"CA", S::kCanceled}, {"RE", S::kRefunded},
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

TEST(OrderStateMachineTest, ExpectationCoversEveryStateAndEvent) {
  EXPECT_EQ(kColumns.size(), kAllOrderEvents.size());
  EXPECT_EQ(std::set<E>(kColumns.begin(), kColumns.end()).size(), kAllOrderEvents.size());
  EXPECT_EQ(ParseExpected().size(), kAllOrderStates.size() * kAllOrderEvents.size());
}

TEST(OrderStateMachineTest, EveryStateTimesEveryEventMatchesTheExpectation) {
  const Expectation expected = ParseExpected();
  int allowed = 0;
  for (S state : kAllOrderStates) {
    for (E event : kAllOrderEvents) {
      SCOPED_TRACE(::testing::Message() << state << " x " << event);
      const auto it = expected.find({state, event});
      ASSERT_NE(it, expected.end());
      const absl::StatusOr<S> next = NextOrderState(state, event);
      if (it->second.has_value()) {
        ++allowed;
        ASSERT_THAT(next, IsOk());
        EXPECT_EQ(*next, *it->second);
      } else {
        EXPECT_THAT(next, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(std::string("order in state ") +
                                             std::string(ToString(state)) +
                                             " cannot take event " +
                                             std::string(ToString(event)))));
      }
    }
  }
  EXPECT_EQ(OrderTransitions().size(), static_cast<size_t>(allowed));
}

TEST(OrderStateMachineTest, AnOrderWithApprovedPaymentsMustBeRefundedNotCanceled) {
  EXPECT_THAT(NextOrderState(S::kPaid, E::kCancel),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "order in state PAID cannot take event Cancel: it has approved "
                       "payments, refund them instead"));
  EXPECT_THAT(NextOrderState(S::kPartiallyPaid, E::kCancel),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refund them")));
}

TEST(OrderStateMachineTest, FinalStatesAcceptNothing) {
  for (S state : kAllOrderStates) {
    bool accepts_any = false;
    for (E event : kAllOrderEvents) accepts_any |= NextOrderState(state, event).ok();
    EXPECT_EQ(IsFinal(state), !accepts_any) << state;
  }
}

TEST(OrderStateMachineTest, PredicatesAgreeWithTheTable) {
  for (S state : kAllOrderStates) {
    EXPECT_EQ(IsEditable(state), NextOrderState(state, E::kAddLine).ok()) << state;
    EXPECT_EQ(AcceptsPayments(state), NextOrderState(state, E::kPaymentApprovedPartial).ok())
        << state;
    EXPECT_EQ(AcceptsPayments(state), NextOrderState(state, E::kPaymentApprovedCovering).ok())
        << state;
  }
  EXPECT_TRUE(IsEditable(S::kOpen));
  EXPECT_TRUE(AcceptsPayments(S::kPlaced));
  EXPECT_TRUE(IsFinal(S::kCanceled));
  EXPECT_TRUE(IsFinal(S::kRefunded));
}

TEST(OrderStateMachineTest, NamesRoundTrip) {
  for (S state : kAllOrderStates) EXPECT_EQ(*ParseOrderState(ToString(state)), state);
  for (E event : kAllOrderEvents) EXPECT_EQ(*ParseOrderEvent(ToString(event)), event);
  EXPECT_EQ(ToString(S::kPartiallyPaid), "PARTIALLY_PAID");
  EXPECT_EQ(ToString(E::kPaymentApprovedCovering), "PaymentApprovedCovering");
  EXPECT_THAT(ParseOrderState("paid"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseOrderEvent(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace posd::core
