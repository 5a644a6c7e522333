// The beacon's text format: what parses, what is refused and why.
#include "service/discovery/beacon.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::discovery {
namespace {

using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<Beacon> Parse(const std::string& text) {
  return ParseBeacon(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

TEST(BeaconTest, EncodesAndParsesBack) {
  Beacon beacon{.terminal_id = "bar-2", .port = 8443, .protocol_version = 1, .path = "/posd",
                .tls = true, .sequence = 17, .interval_ms = 250};
  const std::string text = EncodeBeacon(beacon);
  EXPECT_EQ(text, "POSTERM/1 id=bar-2 port=8443 proto=1 path=/posd tls=1 seq=17 interval_ms=250");
  auto parsed = Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->terminal_id, "bar-2");
  EXPECT_EQ(parsed->port, 8443);
  EXPECT_EQ(parsed->protocol_version, 1u);
  EXPECT_EQ(parsed->path, "/posd");
  EXPECT_TRUE(parsed->tls);
  EXPECT_EQ(parsed->sequence, 17u);
  EXPECT_EQ(parsed->interval_ms, 250u);
}

TEST(BeaconTest, OptionalFieldsDefaultAndUnknownKeysAreIgnored) {
  auto parsed = Parse("POSTERM/1 proto=2 port=80 id=t1 color=blue");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->path, "/");
  EXPECT_FALSE(parsed->tls);
  EXPECT_EQ(parsed->interval_ms, kDefaultBeaconIntervalMs);
  EXPECT_EQ(parsed->protocol_version, 2u);
}

TEST(BeaconTest, MalformedBeaconsAreRefusedWithTheReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "does not start"},
      {"POSTERM/2 id=t1 port=80 proto=1", "does not start with POSTERM/1"},
      {"HELLO", "does not start"},
      {"POSTERM/1", "id is missing"},
      {"POSTERM/1 id=t1 proto=1", "port is missing"},
      {"POSTERM/1 id=t1 port=80", "proto is missing"},
      {"POSTERM/1 id=T1 port=80 proto=1", "not a terminal id"},
      {"POSTERM/1 id=t1 port=0 proto=1", "port must be"},
      {"POSTERM/1 id=t1 port=65536 proto=1", "port must be"},
      {"POSTERM/1 id=t1 port=x proto=1", "port must be"},
      {"POSTERM/1 id=t1 port=80 proto=0", "proto must be"},
      {"POSTERM/1 id=t1 port=80 proto=1 tls=yes", "tls must be"},
      {"POSTERM/1 id=t1 port=80 proto=1 path=x", "path must start"},
      {"POSTERM/1 id=t1 port=80 proto=1 interval_ms=0", "interval_ms"},
      {"POSTERM/1 id=t1 id=t2 port=80 proto=1", "repeated"},
      {"POSTERM/1 id=t1  port=80 proto=1", "empty field"},
      {"POSTERM/1 id=t1 port=80 proto=1 junk", "not key=value"},
      {"POSTERM/1 id=t1 port=80 proto=1\n", "printable"},
      {"POSTERM/1 id=t1 port=80 proto=1 x=" + std::string(600, 'a'), "longer than 512"},
  };
  for (const auto& [text, why] : cases) {
    EXPECT_THAT(Parse(text), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(why)))
        << "'" << text << "'";
  }
}

}  // namespace
}  // namespace posd::discovery
