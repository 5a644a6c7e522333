#include "service/transport/serial_settings.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::transport {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

SerialSettings Valid() {
  SerialSettings settings;
  settings.port = "/dev/ttyUSB0";
  return settings;
}

TEST(SerialSettingsTest, DefaultsWithAPortAreValid) {
  SerialSettings settings = Valid();
  EXPECT_EQ(settings.baud, 115200);
  EXPECT_EQ(settings.data_bits, 8);
  EXPECT_EQ(settings.parity, Parity::kNone);
  EXPECT_EQ(settings.stop_bits, StopBits::kOne);
  EXPECT_EQ(settings.flow_control, FlowControl::kNone);
  EXPECT_THAT(settings.Validate(), IsOk());
}

TEST(SerialSettingsTest, EmptyPortIsRejected) {
  SerialSettings settings = Valid();
  settings.port = "";
  EXPECT_THAT(settings.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port must name a device")));
}

TEST(SerialSettingsTest, RelativePortIsRejected) {
  SerialSettings settings = Valid();
  settings.port = "ttyUSB0";
  EXPECT_THAT(settings.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("port 'ttyUSB0' must be an absolute device path")));
}

TEST(SerialSettingsTest, EveryStandardBaudIsAccepted) {
  for (int baud :
       {50, 300, 1200, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 4000000}) {
    SerialSettings settings = Valid();
    settings.baud = baud;
    EXPECT_THAT(settings.Validate(), IsOk()) << baud;
  }
}

TEST(SerialSettingsTest, NonStandardBaudIsRejectedWithTheValueAndTheChoices) {
  for (int baud : {0, -9600, 12345, 9601, 250000}) {
    SerialSettings settings = Valid();
    settings.baud = baud;
    EXPECT_THAT(settings.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                              AllOf(HasSubstr("baud " + std::to_string(baud) +
                                                              " is not a standard termios rate"),
                                                    HasSubstr("9600, 19200"))))
        << baud;
  }
}

TEST(SerialSettingsTest, DataBitsFiveToEightAreAccepted) {
  for (int bits = 5; bits <= 8; ++bits) {
    SerialSettings settings = Valid();
    settings.data_bits = bits;
    EXPECT_THAT(settings.Validate(), IsOk()) << bits;
  }
}

TEST(SerialSettingsTest, DataBitsOutOfRangeAreRejected) {
  for (int bits : {0, 4, 9, 16}) {
    SerialSettings settings = Valid();
    settings.data_bits = bits;
    EXPECT_THAT(settings.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("data_bits " + std::to_string(bits) +
                                                        " is out of range (5 to 8)")));
  }
}

TEST(SerialSettingsTest, UnknownEnumValuesAreRejected) {
  SerialSettings parity = Valid();
  parity.parity = static_cast<Parity>(42);
  EXPECT_THAT(parity.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parity 42 is not a known")));

  SerialSettings stop = Valid();
  stop.stop_bits = static_cast<StopBits>(3);
  EXPECT_THAT(stop.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("stop_bits 3 is not a known")));

  SerialSettings flow = Valid();
  flow.flow_control = static_cast<FlowControl>(-1);
  EXPECT_THAT(flow.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("flow_control -1 is not a known")));
}

TEST(SerialSettingsTest, EveryParityStopBitsAndFlowControlIsValid) {
  for (Parity parity :
       {Parity::kNone, Parity::kOdd, Parity::kEven, Parity::kMark, Parity::kSpace}) {
    for (StopBits stop : {StopBits::kOne, StopBits::kTwo}) {
      for (FlowControl flow : {FlowControl::kNone, FlowControl::kXonXoff, FlowControl::kRtsCts,
                               FlowControl::kDtrDsr}) {
        SerialSettings settings = Valid();
        settings.parity = parity;
        settings.stop_bits = stop;
        settings.flow_control = flow;
        EXPECT_THAT(settings.Validate(), IsOk());
      }
    }
  }
}

TEST(SerialSettingsTest, NamesRoundTrip) {
  for (Parity parity :
       {Parity::kNone, Parity::kOdd, Parity::kEven, Parity::kMark, Parity::kSpace}) {
    absl::StatusOr<Parity> parsed = ParseParity(ParityName(parity));
    POSD_ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, parity);
  }
  for (StopBits stop : {StopBits::kOne, StopBits::kTwo}) {
    absl::StatusOr<StopBits> parsed = ParseStopBits(StopBitsName(stop));
    POSD_ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, stop);
  }
  for (FlowControl flow :
       {FlowControl::kNone, FlowControl::kXonXoff, FlowControl::kRtsCts, FlowControl::kDtrDsr}) {
    absl::StatusOr<FlowControl> parsed = ParseFlowControl(FlowControlName(flow));
    POSD_ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, flow);
  }
}

TEST(SerialSettingsTest, UnknownNamesListTheChoices) {
  EXPECT_THAT(ParseParity("Even"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("parity 'Even' is not one of none, odd, even, mark, space")));
  EXPECT_THAT(ParseStopBits("1.5"), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("stop_bits '1.5' is not one of 1, 2")));
  EXPECT_THAT(
      ParseFlowControl("hardware"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("flow_control 'hardware' is not one of none, xonxoff, rtscts, dtrdsr")));
}

}  // namespace
}  // namespace posd::transport
