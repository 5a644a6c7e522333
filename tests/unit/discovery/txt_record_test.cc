// The `_posterm._tcp` TXT record: what is announced, what parses, what is
// refused and why.
#include "service/discovery/txt_record.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::discovery {
namespace {

using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TxtRecordTest, FormatsEveryFieldAndParsesBack) {
  const TerminalTxt txt{.terminal_id = "bar-2", .protocol_version = 3, .path = "/posd",
                        .tls = true};
  auto entries = FormatTerminalTxt(txt);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries, ElementsAre("id=bar-2", "proto=3", "path=/posd", "tls=1"));
  auto parsed = ParseTerminalTxt(*entries);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->terminal_id, "bar-2");
  EXPECT_EQ(parsed->protocol_version, 3u);
  EXPECT_EQ(parsed->path, "/posd");
  EXPECT_TRUE(parsed->tls);
}

TEST(TxtRecordTest, OptionalFieldsDefaultAndUnknownKeysAreIgnored) {
  auto parsed = ParseTerminalTxt({"color=blue", "proto=1", "id=t1", "flag", "=x"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->terminal_id, "t1");
  EXPECT_EQ(parsed->protocol_version, 1u);
  EXPECT_EQ(parsed->path, "/");
  EXPECT_FALSE(parsed->tls);
}

TEST(TxtRecordTest, KeysIgnoreCaseAndTheFirstOfARepeatedKeyCounts) {
  auto parsed = ParseTerminalTxt({"ID=first", "Proto=2", "id=second", "TLS=1"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->terminal_id, "first");
  EXPECT_EQ(parsed->protocol_version, 2u);
  EXPECT_TRUE(parsed->tls);
}

TEST(TxtRecordTest, MalformedRecordsAreRefusedWithTheReason) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{}, "id is missing"},
      {{"proto=1"}, "id is missing"},
      {{"id=t1"}, "proto is missing"},
      {{"id", "proto=1"}, "id is missing"},
      {{"id=BAD", "proto=1"}, "id 'BAD' is not a terminal id"},
      {{"id=", "proto=1"}, "id '' is not a terminal id"},
      {{"id=1abc", "proto=1"}, "is not a terminal id"},
      {{"id=" + std::string(64, 'a'), "proto=1"}, "is not a terminal id"},
      {{"id=t1", "proto=0"}, "proto '0' is not a version"},
      {{"id=t1", "proto=x"}, "proto 'x' is not a version"},
      {{"id=t1", "proto=-1"}, "is not a version"},
      {{"id=t1", "proto=1", "path=posd"}, "path 'posd' must start with '/'"},
      {{"id=t1", "proto=1", "path=/a b"}, "path '/a b'"},
      {{"id=t1", "proto=1", "tls=yes"}, "tls 'yes' must be 0 or 1"},
  };
  for (const auto& [entries, reason] : cases) {
    EXPECT_THAT(ParseTerminalTxt(entries),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(reason)))
        << ::testing::PrintToString(entries);
  }
}

TEST(TxtRecordTest, NothingMalformedIsFormatted) {
  EXPECT_THAT(FormatTerminalTxt({.terminal_id = "Bad", .protocol_version = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("id 'Bad'")));
  EXPECT_THAT(FormatTerminalTxt({.terminal_id = "t1", .protocol_version = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("proto")));
  EXPECT_THAT(FormatTerminalTxt({.terminal_id = "t1", .protocol_version = 1, .path = "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("path 'x'")));
  EXPECT_THAT(FormatTerminalTxt({.terminal_id = "t1", .protocol_version = 1,
                                 .path = "/" + std::string(250, 'p')}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("path")));
}

}  // namespace
}  // namespace posd::discovery
