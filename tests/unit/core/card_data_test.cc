#include "service/core/card_data.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::core {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MaskedPanTest, AcceptsFirstSixLastFour) {
  for (std::string_view good : {"411111******1111", "************1111", "411111**********",
                                "****************", "411111**1111" /* 12: shortest */,
                                "601100*********0004" /* 19: longest */}) {
    absl::StatusOr<MaskedPan> pan = MaskedPan::Parse(good);
    ASSERT_THAT(pan, IsOk()) << good;
    EXPECT_EQ(pan->str(), good);
  }
  EXPECT_EQ(MaskedPan::Parse("411111*********1111")->last_four(), "1111");  // 19
  EXPECT_EQ(MaskedPan::Parse("541333******0019")->last_four(), "0019");
}

TEST(MaskedPanTest, RefusesFullPans) {
  for (std::string_view full : {"4111111111111111", "378282246310005", "6011000990139424",
                                "4111111111111111111", "411111111111"}) {
    EXPECT_THAT(MaskedPan::Parse(full),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("full card number")))
        << full;
  }
}

TEST(MaskedPanTest, RefusesDigitsInTheMaskedMiddle) {
  EXPECT_THAT(MaskedPan::Parse("4111111*****1111"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("position 7")));
  EXPECT_THAT(MaskedPan::Parse("411111*****11111"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("position 12")));
  EXPECT_THAT(MaskedPan::Parse("411111**1***1111"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MaskedPanTest, RefusesOtherCharactersAndLengths) {
  for (std::string_view bad : {"", "1111", "****1111", "411111XXXXXX1111", "4111 11** **** 1111",
                               "411111------1111", "411111******111a", "41111*1111",
                               "411111**************1111"}) {
    EXPECT_THAT(MaskedPan::Parse(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(MaskedPanTest, ErrorsNeverEchoTheInput) {
  const std::string full = "4111111111111111";
  absl::StatusOr<MaskedPan> pan = MaskedPan::Parse(full);
  ASSERT_THAT(pan, Not(IsOk()));
  EXPECT_THAT(std::string(pan.status().message()), Not(HasSubstr("111111")));
  const std::string leaky = "4111111111**1111";
  pan = MaskedPan::Parse(leaky);
  ASSERT_THAT(pan, Not(IsOk()));
  EXPECT_THAT(std::string(pan.status().message()), Not(HasSubstr("1111111")));
}

}  // namespace
}  // namespace posd::core
