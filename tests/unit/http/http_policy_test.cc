#include "service/http/http_policy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::http {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

HttpPolicy LoopbackPolicy() {
  return {.allowed_hosts = {"localhost", "127.0.0.1", "[::1]", "till.local:8780"},
          .cors_allowed_origins = {"https://kiosk.example"}};
}

TEST(HttpPolicy, HostCheckAcceptsConfiguredNamesOnly) {
  const HttpPolicy policy = LoopbackPolicy();
  EXPECT_TRUE(HostAllowed(policy, "127.0.0.1:8780"));
  EXPECT_TRUE(HostAllowed(policy, "LOCALHOST:1"));
  EXPECT_TRUE(HostAllowed(policy, "localhost"));
  EXPECT_TRUE(HostAllowed(policy, "[::1]:8780"));
  EXPECT_TRUE(HostAllowed(policy, "till.local:8780"));
  // DNS rebinding: an attacker's name resolving to 127.0.0.1.
  EXPECT_FALSE(HostAllowed(policy, "evil.example:8780"));
  EXPECT_FALSE(HostAllowed(policy, "localhost.evil.example"));
  EXPECT_FALSE(HostAllowed(policy, "till.local:9999"));  // that entry has a port
  EXPECT_FALSE(HostAllowed(policy, ""));
}

TEST(HttpPolicy, SameOriginAndListedOriginsAreAllowedOthersNot) {
  const HttpPolicy policy = LoopbackPolicy();
  EXPECT_TRUE(OriginAllowed(policy, "", "127.0.0.1:8780", false));
  EXPECT_TRUE(OriginAllowed(policy, "http://127.0.0.1:8780", "127.0.0.1:8780", false));
  EXPECT_FALSE(OriginAllowed(policy, "https://127.0.0.1:8780", "127.0.0.1:8780", false));
  EXPECT_TRUE(OriginAllowed(policy, "https://kiosk.example", "127.0.0.1:8780", false));
  EXPECT_FALSE(OriginAllowed(policy, "https://kiosk.example.evil", "127.0.0.1:8780", false));
  EXPECT_FALSE(OriginAllowed(policy, "null", "127.0.0.1:8780", false));
}

TEST(HttpPolicy, CorsEchoesTheExactOriginNeverAStar) {
  const HttpPolicy policy = LoopbackPolicy();
  const HeaderList headers = CorsResponseHeaders(policy, "https://kiosk.example", "127.0.0.1", false);
  EXPECT_THAT(headers, Contains(Pair("access-control-allow-origin", "https://kiosk.example")));
  EXPECT_THAT(headers, Contains(Pair("access-control-allow-credentials", "true")));
  EXPECT_THAT(headers, Contains(Pair("access-control-expose-headers",
                                     "grpc-status, grpc-message, grpc-status-details-bin")));
  for (const auto& [name, value] : headers) EXPECT_NE(value, "*") << name;
  EXPECT_THAT(CorsResponseHeaders(policy, "https://other.example", "127.0.0.1", false), IsEmpty());
  EXPECT_THAT(CorsResponseHeaders(policy, "", "127.0.0.1", false), IsEmpty());
}

TEST(HttpPolicy, PreflightAllowsPostAndOnlyHeadersThatAreForwarded) {
  const HttpPolicy policy = LoopbackPolicy();
  auto headers = PreflightHeaders(policy, "https://kiosk.example", "127.0.0.1", false, "POST",
                                  "content-type, x-grpc-web, X-User-Agent, grpc-timeout, "
                                  "posd-elevation, posd-role, authorization, x-trace-id");
  ASSERT_THAT(headers, IsOk());
  EXPECT_THAT(*headers, Contains(Pair("access-control-allow-headers",
                                      "content-type, x-grpc-web, x-user-agent, grpc-timeout, "
                                      "posd-elevation, x-trace-id")));
  EXPECT_THAT(*headers, Contains(Pair("access-control-allow-methods", "POST")));
  EXPECT_THAT(PreflightHeaders(policy, "https://other.example", "127.0.0.1", false, "POST", ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(PreflightHeaders(policy, "https://kiosk.example", "127.0.0.1", false, "DELETE", ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(PreflightHeaders(policy, "", "127.0.0.1", false, "POST", ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(HttpPolicy, NoHeaderThatCouldClaimARoleIsForwarded) {
  for (const char* name : {"authorization", "cookie", "posd-role", "posd-caller", "posd-token",
                           "grpc-timeout", "grpc-internal-encoding-request", "host", "x-grpc-web",
                           ":authority", "te", "proxy-authorization", "sec-fetch-site",
                           "content-type", "Weird Name"}) {
    EXPECT_FALSE(IsForwardedHeader(name)) << name;
  }
  for (const char* name : {"posd-elevation", "x-request-id", "x-trace-bin"}) {
    EXPECT_TRUE(IsForwardedHeader(name)) << name;
  }
}

TEST(HttpPolicy, ForwardedMetadataDecodesBinaryHeadersAndDropsTheRest) {
  auto metadata = ForwardedMetadata({{"Authorization", "Bearer operator-token"},
                                     {"posd-role", "operator"},
                                     {"POSD-Elevation", "manager-credential"},
                                     {"x-trace-bin", "AAEC"},
                                     {"x-short-bin", "AAE"},  // unpadded
                                     {"x-request-id", "r-1"}});
  ASSERT_THAT(metadata, IsOk());
  EXPECT_THAT(*metadata, UnorderedElementsAre(Pair("posd-elevation", "manager-credential"),
                                              Pair("x-trace-bin", std::string("\x00\x01\x02", 3)),
                                              Pair("x-short-bin", std::string("\x00\x01", 2)),
                                              Pair("x-request-id", "r-1")));
  EXPECT_THAT(ForwardedMetadata({{"x-trace-bin", "$$$$"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ForwardedMetadata({{"x-request-id", "a\x01"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HttpPolicy, ServerMetadataBecomesHttpWithBinaryInBase64) {
  const HeaderList http = MetadataToHttp({{"x-source-problems", "dns-sd down"},
                                          {"x-blob-bin", std::string("\x00\xff", 2)},
                                          {"grpc-status", "0"},
                                          {"content-type", "application/grpc"}});
  EXPECT_THAT(http, UnorderedElementsAre(Pair("x-source-problems", "dns-sd down"),
                                         Pair("x-blob-bin", "AP8=")));
}

}  // namespace
}  // namespace posd::http
