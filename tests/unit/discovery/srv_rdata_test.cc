// SRV RDATA as Avahi's record browser gives it: port and target host.
#include "service/discovery/srv_rdata.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::discovery {
namespace {

using ::posd::testing::StatusIs;

TEST(SrvRdataTest, ReadsPortAndTarget) {
  const std::vector<uint8_t> rdata = {0, 0, 0, 0, 0x1f, 0x90, 9, 'p', 'o', 's', 't', 'e', 'r',
                                      'm', '-', '1', 5, 'l', 'o', 'c', 'a', 'l', 0};
  auto target = ParseSrvRdata(rdata.data(), rdata.size());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->port, 8080);
  EXPECT_EQ(target->host, "posterm-1.local");
}

TEST(SrvRdataTest, RefusesTruncatedOrCompressedData) {
  const std::vector<std::vector<uint8_t>> bad = {
      {},
      {0, 0, 0, 0, 0, 80},
      {0, 0, 0, 0, 0, 80, 0},
      {0, 0, 0, 0, 0, 80, 5, 'a', 'b'},
      {0, 0, 0, 0, 0, 80, 3, 'a', 'b', 'c'},
      {0, 0, 0, 0, 0, 80, 0xc0, 0x0c},
  };
  for (const auto& rdata : bad) {
    EXPECT_THAT(ParseSrvRdata(rdata.data(), rdata.size()),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << ::testing::PrintToString(rdata);
  }
}

}  // namespace
}  // namespace posd::discovery
