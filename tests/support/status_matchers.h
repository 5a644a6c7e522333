// GoogleTest matchers for absl::Status and absl::StatusOr (Debian 12's Abseil
// has none). Tests assert the specific code, not merely "not OK".
#pragma once

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace posd::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// EXPECT_THAT(DoIt(), IsOk());
MATCHER(IsOk, "is OK") {
  const absl::Status& status = ::posd::testing::GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

// EXPECT_THAT(DoIt(), StatusIs(absl::StatusCode::kNotFound));
// EXPECT_THAT(DoIt(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("order")));
MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& status = ::posd::testing::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& status = ::posd::testing::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}

}  // namespace posd::testing

#define POSD_ASSERT_OK(expr) ASSERT_THAT(expr, ::posd::testing::IsOk())
#define POSD_EXPECT_OK(expr) EXPECT_THAT(expr, ::posd::testing::IsOk())
