#include "service/config/http_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config.h"
#include "tests/support/status_matchers.h"

namespace posd::config {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(HttpConfigTest, OffByDefaultWithLoopbackHostNames) {
  auto config = ParseConfig("", "posd.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->http().listen(), "");
  EXPECT_THAT(config->http().allowed_hosts(), ElementsAre("localhost", "127.0.0.1", "[::1]"));
  EXPECT_EQ(config->http().cors_allowed_origins_size(), 0);
  EXPECT_EQ(config->http().max_request_bytes(), 4u << 20);
  EXPECT_EQ(config->http().max_connections(), 256u);
}

TEST(HttpConfigTest, ReadsEveryKey) {
  auto config = ParseConfig(R"(
http:
  listen: "[::1]:8780"
  allowed_hosts: [till.local, "till.local:8780"]
  cors_allowed_origins: ["https://kiosk.example", "http://127.0.0.1:5173"]
  max_request_bytes: 65536
  max_connections: 10
)",
                            "posd.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->http().listen(), "[::1]:8780");
  EXPECT_THAT(config->http().allowed_hosts(), ElementsAre("till.local", "till.local:8780"));
  EXPECT_THAT(config->http().cors_allowed_origins(),
              ElementsAre("https://kiosk.example", "http://127.0.0.1:5173"));
  EXPECT_EQ(config->http().max_request_bytes(), 65536u);
  EXPECT_EQ(config->http().max_connections(), 10u);
}

TEST(HttpConfigTest, NonLoopbackNeedsTls) {
  EXPECT_THAT(ParseConfig("http:\n  listen: 0.0.0.0:8780\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("http.listen")));
  EXPECT_THAT(ParseConfig("http:\n  listen: 192.168.1.5:8780\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs TLS")));
  EXPECT_THAT(ParseConfig("http:\n  listen: 127.0.0.2:8780\n", "posd.yaml"), IsOk());
  auto tls = ParseConfig(
      "http:\n  listen: 0.0.0.0:8780\n  tls_certificate_file: c.pem\n  tls_private_key_file: k.pem\n",
      "posd.yaml");
  EXPECT_THAT(tls, IsOk());
}

TEST(HttpConfigTest, TlsDefaultsToTheGrpcTcpListenersCertificate) {
  auto config = ParseConfig(R"(
server:
  tcp:
    address: 0.0.0.0:7443
    tls_certificate_file: /etc/posd/tls.crt
    tls_private_key_file: /etc/posd/tls.key
    tokens: [{token_file: /etc/posd/ui.token, role: ui}]
http:
  listen: 0.0.0.0:8780
)",
                            "posd.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->http().tls_certificate_file(), "/etc/posd/tls.crt");
  EXPECT_EQ(config->http().tls_private_key_file(), "/etc/posd/tls.key");
}

TEST(HttpConfigTest, RefusesBadValuesNamingTheKey) {
  const struct {
    const char* yaml;
    const char* key;
  } cases[] = {
      {"http:\n  listen: localhost:8780\n", "http.listen"},
      {"http:\n  listen: 127.0.0.1\n", "http.listen"},
      {"http:\n  listen: 127.0.0.1:99999\n", "http.listen"},
      {"http:\n  cors_allowed_origins: ['*']\n", "http.cors_allowed_origins[0]"},
      {"http:\n  cors_allowed_origins: ['https://a.example/path']\n", "http.cors_allowed_origins[0]"},
      {"http:\n  cors_allowed_origins: ['kiosk.example']\n", "http.cors_allowed_origins[0]"},
      {"http:\n  allowed_hosts: ['a b']\n", "http.allowed_hosts[0]"},
      {"http:\n  max_request_bytes: 10\n", "http.max_request_bytes"},
      {"http:\n  max_connections: 0\n", "http.max_connections"},
      {"http:\n  tls_certificate_file: c.pem\n", "http.tls_private_key_file"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ParseConfig(c.yaml, "posd.yaml"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.key)))
        << c.yaml;
  }
}

TEST(HttpConfigTest, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.255.0.9"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackAddress("::"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("localhost"));
}

}  // namespace
}  // namespace posd::config
