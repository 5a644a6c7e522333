// posctl pay's --tip-preset and --param become the request's parameters.
#include "service/posctl/payment_parameters.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::posctl {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(PaymentParametersTest, NothingGivenIsNoParameters) {
  auto parameters = PaymentParameters("", {});
  ASSERT_THAT(parameters, IsOk());
  EXPECT_THAT(*parameters, IsEmpty());
}

TEST(PaymentParametersTest, ATipPresetIsTheKeyTheTipPluginReads) {
  auto parameters = PaymentParameters("1", {});
  ASSERT_THAT(parameters, IsOk());
  EXPECT_THAT(*parameters, ElementsAre(Pair("tip.preset", "1")));
}

TEST(PaymentParametersTest, ParamsAreKeyValueAndTheValueMayHoldEqualsOrBeEmpty) {
  auto parameters = PaymentParameters("0", {"ui.note=a=b", "ui.empty=", "tip.percent_bp=1500"});
  ASSERT_THAT(parameters, IsOk());
  EXPECT_THAT(*parameters, ElementsAre(Pair("tip.percent_bp", "1500"), Pair("tip.preset", "0"),
                                       Pair("ui.empty", ""), Pair("ui.note", "a=b")));
}

TEST(PaymentParametersTest, BadOptionsAreRefusedNamingTheOption) {
  for (const char* preset : {"-1", "one", "1.5", " 1", "9999999999"}) {
    auto parameters = PaymentParameters(preset, {});
    EXPECT_THAT(parameters, StatusIs(absl::StatusCode::kInvalidArgument)) << preset;
    EXPECT_THAT(parameters.status().message(), HasSubstr("--tip-preset")) << preset;
  }
  EXPECT_THAT(PaymentParameters("", {"tip.preset"}).status().message(),
              HasSubstr("--param \"tip.preset\" is not key=value"));
  EXPECT_THAT(PaymentParameters("", {"=1"}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PaymentParameters("", {"a=1", "a=2"}).status().message(),
              HasSubstr("--param a is given twice"));
  EXPECT_THAT(PaymentParameters("1", {"tip.preset=2"}).status().message(),
              HasSubstr("--tip-preset and --param tip.preset"));
}

}  // namespace
}  // namespace posd::posctl
