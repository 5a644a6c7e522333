#include "service/core/ids.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/clock.h"
#include "service/core/random_source.h"
#include "tests/support/status_matchers.h"

namespace posd::core {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

// A random source that always returns the same value, to push the generator
// to the top of its 80-bit space.
class ConstantRandom final : public RandomSource {
 public:
  explicit ConstantRandom(uint64_t value) : value_(value) {}
  uint64_t NextUint64() override { return value_; }

 private:
  uint64_t value_;
};

TEST(IdGeneratorTest, IsDeterministicWithFakeClockAndSeededRandom) {
  // Golden values computed independently (SplitMix64 seed 42, ULID of
  // 1700000000000 ms) so a change of the encoding fails here.
  FakeClock clock;
  SplitMix64 random(42);
  IdGenerator ids(clock, random);
  EXPECT_EQ(ids.Next<IdKind::kPayment>().str(), "pay_01HF7YAT00DTAJHVZ36ES6DW83");
  EXPECT_EQ(ids.Next<IdKind::kPayment>().str(), "pay_01HF7YAT00DTAJHVZ36ES6DW84");
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(ids.Next<IdKind::kOrder>().str(), "ord_01HF7YAT01KX95G771ZW74NRWM");
}

TEST(IdGeneratorTest, TwoGeneratorsWithTheSameInputsAgree) {
  FakeClock clock_a, clock_b;
  SplitMix64 random_a(7), random_b(7);
  IdGenerator a(clock_a, random_a), b(clock_b, random_b);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.NextText(IdKind::kEvent), b.NextText(IdKind::kEvent));
    if (i % 3 == 0) {
      clock_a.Advance(std::chrono::microseconds(700));
      clock_b.Advance(std::chrono::microseconds(700));
    }
  }
}

TEST(IdGeneratorTest, HundredThousandIdsAreUniqueAndSortInGenerationOrder) {
  FakeClock clock;
  SplitMix64 random(1);
  IdGenerator ids(clock, random);
  std::vector<std::string> generated;
  generated.reserve(100'000);
  for (int i = 0; i < 100'000; ++i) {
    generated.push_back(ids.NextText(IdKind::kPayment));
    if (i % 7 == 0) clock.Advance(std::chrono::microseconds(300));  // several per ms
  }
  EXPECT_TRUE(std::is_sorted(generated.begin(), generated.end()));
  EXPECT_EQ(std::set<std::string>(generated.begin(), generated.end()).size(), generated.size());
  EXPECT_EQ(std::adjacent_find(generated.begin(), generated.end()), generated.end());
}

TEST(IdGeneratorTest, MonotonicWithinOneMillisecond) {
  FakeClock clock;
  SplitMix64 random(3);
  IdGenerator ids(clock, random);
  std::string previous = ids.NextText(IdKind::kOrder);
  for (int i = 0; i < 10'000; ++i) {
    std::string next = ids.NextText(IdKind::kOrder);
    ASSERT_LT(previous, next);
    ASSERT_EQ(next.substr(0, 14), previous.substr(0, 14));  // same timestamp
    previous = next;
  }
}

TEST(IdGeneratorTest, StaysMonotonicWhenTheWallClockStepsBack) {
  SplitMix64 random(5);
  // Each reading is a second earlier than the one before (an NTP step back).
  class SteppingBackClock final : public Clock {
   public:
    std::chrono::steady_clock::time_point Now() const override { return {}; }
    std::chrono::system_clock::time_point WallNow() const override {
      const int64_t call = calls_++;
      return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 - call));
    }

   private:
    mutable int64_t calls_ = 0;
  } clock;
  IdGenerator ids(clock, random);
  std::string previous = ids.NextText(IdKind::kEvent);
  for (int i = 0; i < 100; ++i) {
    std::string next = ids.NextText(IdKind::kEvent);
    ASSERT_LT(previous, next);
    previous = next;
  }
}

// A restart with the clock an hour behind the last stored id: continuing
// after the stored ids keeps new ids sorting after them.
TEST(IdGeneratorTest, ContinuesAfterStoredIdsWhenTheClockIsBehind) {
  SplitMix64 random(9);
  FakeClock before_restart;
  before_restart.Advance(std::chrono::hours(1));
  IdGenerator first(before_restart, random);
  const std::string stored = first.NextText(IdKind::kPayment);

  FakeClock after_restart;  // an hour earlier than `stored`
  SplitMix64 other_random(10);
  IdGenerator second(after_restart, other_random);
  EXPECT_LT(second.NextText(IdKind::kPayment), stored) << "the premise: the clock is behind";
  ASSERT_THAT(second.ContinueAfter(stored), IsOk());
  std::string previous = stored;
  for (int i = 0; i < 10; ++i) {
    const std::string next = second.NextText(IdKind::kPayment);
    ASSERT_LT(previous, next);
    previous = next;
  }
  // An older id changes nothing; a malformed one is refused.
  ASSERT_THAT(second.ContinueAfter(stored), IsOk());
  EXPECT_LT(previous, second.NextText(IdKind::kOrder).substr(4).insert(0, "pay_"));
  EXPECT_THAT(second.ContinueAfter("pay_short"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(second.ContinueAfter("nothing"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(IdGeneratorTest, LaterMillisecondSortsAfterAnyRandomPart) {
  FakeClock clock;
  ConstantRandom high(~uint64_t{0});
  IdGenerator a(clock, high);
  const std::string early = a.NextText(IdKind::kPayment);  // random part all ones
  clock.Advance(std::chrono::milliseconds(1));
  ConstantRandom low(0);
  IdGenerator b(clock, low);
  EXPECT_LT(early, b.NextText(IdKind::kPayment));
}

TEST(IdGeneratorTest, BorrowsTheNextMillisecondWhenTheRandomPartIsExhausted) {
  FakeClock clock;
  ConstantRandom high(~uint64_t{0});
  IdGenerator ids(clock, high);
  const std::string first = ids.NextText(IdKind::kPayment);
  const std::string second = ids.NextText(IdKind::kPayment);  // would wrap 80 bits
  EXPECT_LT(first, second);
  EXPECT_EQ(*IdUnixMillis(IdKind::kPayment, second),
            *IdUnixMillis(IdKind::kPayment, first) + 1);
}

TEST(IdGeneratorTest, IsThreadSafe) {
  FakeClock clock;
  SystemRandomSource random;
  IdGenerator ids(clock, random);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5'000;
  std::vector<std::vector<std::string>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) per_thread[t].push_back(ids.NextText(IdKind::kEvent));
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& list : per_thread) {
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));  // each thread sees order
    all.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(IdsTest, EncodesTheWallClockMilliseconds) {
  FakeClock clock;
  SplitMix64 random(9);
  IdGenerator ids(clock, random);
  clock.Advance(std::chrono::milliseconds(1234));
  const RefundId id = ids.Next<IdKind::kRefund>();
  EXPECT_EQ(*IdUnixMillis(IdKind::kRefund, id.str()), 1'700'000'001'234);
}

TEST(IdsTest, EveryKindHasItsPrefixAndRoundTrips) {
  FakeClock clock;
  SplitMix64 random(11);
  IdGenerator ids(clock, random);
  std::set<std::string_view> prefixes;
  for (IdKind kind : kAllIdKinds) {
    const std::string id = ids.NextText(kind);
    EXPECT_TRUE(id.starts_with(IdPrefix(kind))) << id;
    EXPECT_THAT(ValidateId(kind, id), IsOk());
    EXPECT_EQ(*IdKindOf(id), kind);
    prefixes.insert(IdPrefix(kind));
  }
  EXPECT_EQ(prefixes.size(), kAllIdKinds.size());
  const OrderId order = ids.Next<IdKind::kOrder>();
  EXPECT_EQ(*OrderId::Parse(order.str()), order);
}

TEST(IdsTest, ParseRefusesMalformedIds) {
  const std::string good = "pay_01HF7YAT00DTAJHVZ36ES6DW83";
  ASSERT_THAT(PaymentId::Parse(good), IsOk());
  EXPECT_THAT(PaymentId::Parse(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must start with 'pay_'")));
  EXPECT_THAT(PaymentId::Parse("ord_01HF7YAT00DTAJHVZ36ES6DW83"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed payment id")));
  EXPECT_THAT(PaymentId::Parse("pay_01HF7YAT00DTAJHVZ36ES6DW8"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected 26 characters")));
  EXPECT_THAT(PaymentId::Parse(good + "0"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PaymentId::Parse("pay_01hf7yat00dtajhvz36es6dw83"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Crockford")));
  for (char excluded : {'I', 'L', 'O', 'U', '-', ' '}) {
    std::string bad = good;
    bad[10] = excluded;
    EXPECT_THAT(PaymentId::Parse(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("character 10")))
        << bad;
  }
  EXPECT_THAT(PaymentId::Parse("pay_81HF7YAT00DTAJHVZ36ES6DW83"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timestamp out of range")));
  EXPECT_THAT(IdKindOf("xyz_01HF7YAT00DTAJHVZ36ES6DW83"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace posd::core
