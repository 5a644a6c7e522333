#include "service/devices/device_state.h"

#include "gtest/gtest.h"

namespace posd::devices {
namespace {

TEST(DeviceStateTest, OpenErrorsMapToTheirReasonAndState) {
  EXPECT_EQ(ReasonForOpenError(absl::NotFoundError("x")), posd::v1::DEVICE_STATE_REASON_PORT_MISSING);
  EXPECT_EQ(StateForOpenError(absl::NotFoundError("x")), posd::v1::DEVICE_STATE_DISCONNECTED);
  EXPECT_EQ(ReasonForOpenError(absl::PermissionDeniedError("x")),
            posd::v1::DEVICE_STATE_REASON_PERMISSION_DENIED);
  // Wrong permissions need a person: FAULT.
  EXPECT_EQ(StateForOpenError(absl::PermissionDeniedError("x")), posd::v1::DEVICE_STATE_FAULT);
  EXPECT_EQ(ReasonForOpenError(absl::FailedPreconditionError("x")),
            posd::v1::DEVICE_STATE_REASON_PORT_BUSY);
  EXPECT_EQ(StateForOpenError(absl::FailedPreconditionError("x")),
            posd::v1::DEVICE_STATE_DISCONNECTED);
  EXPECT_EQ(ReasonForOpenError(absl::UnavailableError("EIO")),
            posd::v1::DEVICE_STATE_REASON_LINK_DOWN);
  EXPECT_EQ(StateForOpenError(absl::InvalidArgumentError("not a serial port")),
            posd::v1::DEVICE_STATE_FAULT);
}

TEST(DeviceStateTest, TransportDownCauses) {
  EXPECT_EQ(ReasonForTransportDown(channel::TransportDownReason::kPeerRestarted),
            posd::v1::DEVICE_STATE_REASON_EPOCH_CHANGE);
  EXPECT_EQ(ReasonForTransportDown(channel::TransportDownReason::kRetriesExhausted),
            posd::v1::DEVICE_STATE_REASON_LINK_DOWN);
  EXPECT_EQ(ReasonForTransportDown(channel::TransportDownReason::kStreamFailed),
            posd::v1::DEVICE_STATE_REASON_LINK_DOWN);
  EXPECT_EQ(ReasonForTransportDown(channel::TransportDownReason::kClosed),
            posd::v1::DEVICE_STATE_REASON_SHUTDOWN);
}

TEST(DeviceStateTest, ChannelLossTextsMapToTheTaxonomy) {
  EXPECT_EQ(ReasonForChannelLoss("3 heartbeats unanswered"),
            posd::v1::DEVICE_STATE_REASON_HEARTBEAT_LOST);
  EXPECT_EQ(ReasonForChannelLoss("no HelloAck within 5000 ms"),
            posd::v1::DEVICE_STATE_REASON_NO_HANDSHAKE);
  EXPECT_EQ(ReasonForChannelLoss("terminal refused Hello: ERROR_CODE_MALFORMED"),
            posd::v1::DEVICE_STATE_REASON_NO_HANDSHAKE);
  EXPECT_EQ(ReasonForChannelLoss("terminal chose protocol version 9, posd speaks 1"),
            posd::v1::DEVICE_STATE_REASON_VERSION_MISMATCH);
  EXPECT_EQ(ReasonForChannelLoss("transport down: peer restarted"),
            posd::v1::DEVICE_STATE_REASON_EPOCH_CHANGE);
  EXPECT_EQ(ReasonForChannelLoss("something else"), posd::v1::DEVICE_STATE_REASON_LINK_DOWN);
}

TEST(DeviceStateTest, NamesWithoutPrefixes) {
  EXPECT_EQ(StateName(posd::v1::DEVICE_STATE_READY), "READY");
  EXPECT_EQ(ReasonName(posd::v1::DEVICE_STATE_REASON_HEARTBEAT_LOST), "HEARTBEAT_LOST");
  EXPECT_EQ(ReasonName(static_cast<Reason>(99)), "UNKNOWN");
}

}  // namespace
}  // namespace posd::devices
