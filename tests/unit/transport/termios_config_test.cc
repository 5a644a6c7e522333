// The mapping from settings to termios flags, checked without a device:
// pseudo-terminals on Linux keep only part of it (they report CS8 without
// parity whatever is set), so the full mapping is tested here.
#include "service/transport/termios_config.h"

#include <termios.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::transport {
namespace {

using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

termios Cooked() {
  termios t{};
  t.c_iflag = ICRNL | IXON | ISTRIP | INPCK;
  t.c_oflag = OPOST | ONLCR;
  t.c_lflag = ECHO | ICANON | ISIG | IEXTEN;
  t.c_cflag = CS7 | PARENB | HUPCL;
  return t;
}

termios Make(const SerialSettings& settings) {
  absl::StatusOr<termios> t = MakeTermios(Cooked(), settings);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : termios{};
}

SerialSettings Settings() {
  SerialSettings settings;
  settings.port = "/dev/ttyUSB0";
  return settings;
}

TEST(TermiosConfigTest, DefaultIsRaw8N1Local) {
  termios t = Make(Settings());
  EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_EQ(t.c_cflag & (PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS), 0u);
  EXPECT_NE(t.c_cflag & CLOCAL, 0u);
  EXPECT_NE(t.c_cflag & CREAD, 0u);
  EXPECT_EQ(t.c_lflag & (ECHO | ICANON | ISIG | IEXTEN), 0u);
  EXPECT_EQ(t.c_oflag & OPOST, 0u);
  EXPECT_EQ(t.c_iflag & (ICRNL | IXON | IXOFF | ISTRIP | INPCK), 0u);
  EXPECT_EQ(cfgetospeed(&t), static_cast<speed_t>(B115200));
  EXPECT_EQ(cfgetispeed(&t), static_cast<speed_t>(B115200));
}

TEST(TermiosConfigTest, DataBits) {
  const std::pair<int, tcflag_t> cases[] = {{5, CS5}, {6, CS6}, {7, CS7}, {8, CS8}};
  for (const auto& [bits, flag] : cases) {
    SerialSettings settings = Settings();
    settings.data_bits = bits;
    EXPECT_EQ(Make(settings).c_cflag & CSIZE, flag) << bits;
  }
}

TEST(TermiosConfigTest, Parity) {
  const std::pair<Parity, tcflag_t> cases[] = {{Parity::kNone, 0},
                                               {Parity::kOdd, PARENB | PARODD},
                                               {Parity::kEven, PARENB},
                                               {Parity::kMark, PARENB | PARODD | CMSPAR},
                                               {Parity::kSpace, PARENB | CMSPAR}};
  for (const auto& [parity, flags] : cases) {
    SerialSettings settings = Settings();
    settings.parity = parity;
    EXPECT_EQ(Make(settings).c_cflag & (PARENB | PARODD | CMSPAR), flags) << ParityName(parity);
  }
}

TEST(TermiosConfigTest, StopBitsAndFlowControl) {
  SerialSettings two = Settings();
  two.stop_bits = StopBits::kTwo;
  EXPECT_NE(Make(two).c_cflag & CSTOPB, 0u);

  SerialSettings rtscts = Settings();
  rtscts.flow_control = FlowControl::kRtsCts;
  termios hardware = Make(rtscts);
  EXPECT_NE(hardware.c_cflag & CRTSCTS, 0u);
  EXPECT_EQ(hardware.c_iflag & (IXON | IXOFF), 0u);

  SerialSettings xonxoff = Settings();
  xonxoff.flow_control = FlowControl::kXonXoff;
  termios software = Make(xonxoff);
  EXPECT_EQ(software.c_iflag & (IXON | IXOFF), static_cast<tcflag_t>(IXON | IXOFF));
  EXPECT_EQ(software.c_cflag & CRTSCTS, 0u);
}

TEST(TermiosConfigTest, DtrDsrIsUnimplemented) {
  SerialSettings settings = Settings();
  settings.flow_control = FlowControl::kDtrDsr;
  EXPECT_THAT(MakeTermios(Cooked(), settings),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("dtrdsr")));
}

TEST(TermiosConfigTest, BaudTable) {
  EXPECT_EQ(BaudToSpeed(9600), std::optional<speed_t>(B9600));
  EXPECT_EQ(BaudToSpeed(4000000), std::optional<speed_t>(B4000000));
  EXPECT_EQ(BaudToSpeed(9601), std::nullopt);
  std::span<const int> rates = StandardBaudRates();
  ASSERT_FALSE(rates.empty());
  EXPECT_TRUE(std::is_sorted(rates.begin(), rates.end()));
  for (int rate : rates) EXPECT_TRUE(BaudToSpeed(rate).has_value()) << rate;
}

}  // namespace
}  // namespace posd::transport
