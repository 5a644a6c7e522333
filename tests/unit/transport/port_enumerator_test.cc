// Lists whatever ports this machine has (often none in a container). Ports
// are only listed, never opened by posd.
#include "service/transport/port_enumerator.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/transport/testing/pty_pair.h"
#include "tests/support/status_matchers.h"

namespace posd::transport {
namespace {

using ::testing::StartsWith;

TEST(PortEnumeratorTest, ListsWellFormedPortsSortedByName) {
  absl::StatusOr<std::vector<PortInfo>> ports = ListSerialPorts();
  POSD_ASSERT_OK(ports);
  for (const PortInfo& port : *ports) {
    EXPECT_THAT(port.name, StartsWith("/dev/"));
    if (port.transport != PortTransport::kUsb) {
      EXPECT_FALSE(port.usb_vendor_id.has_value()) << port.name;
      EXPECT_FALSE(port.usb_product_id.has_value()) << port.name;
    }
  }
  EXPECT_TRUE(std::is_sorted(ports->begin(), ports->end(),
                             [](const PortInfo& a, const PortInfo& b) { return a.name < b.name; }));
}

TEST(PortEnumeratorTest, PseudoTerminalsAreNotListed) {
  absl::StatusOr<testing::PtyPair> pty = testing::PtyPair::Create();
  POSD_ASSERT_OK(pty);
  absl::StatusOr<std::vector<PortInfo>> ports = ListSerialPorts();
  POSD_ASSERT_OK(ports);
  for (const PortInfo& port : *ports) EXPECT_NE(port.name, pty->slave_path());
}

TEST(PortEnumeratorTest, TransportNames) {
  EXPECT_EQ(PortTransportName(PortTransport::kNative), "native");
  EXPECT_EQ(PortTransportName(PortTransport::kUsb), "usb");
  EXPECT_EQ(PortTransportName(PortTransport::kBluetooth), "bluetooth");
  EXPECT_EQ(PortTransportName(PortTransport::kUnknown), "unknown");
}

}  // namespace
}  // namespace posd::transport
