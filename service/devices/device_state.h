// A device's connection state and the reason for it, from a fixed taxonomy
// (posd.v1.DeviceState, posd.v1.DeviceStateReason), and the mapping from what
// the lower layers report (open errors, transport-down causes, channel loss
// texts) into that taxonomy, so UIs can show a localized hint and a support
// engineer reads one word before the details.
//
// Pure functions and a plain value; thread-compatible.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "posd/v1/devices.pb.h"
#include "service/channel/message_transport.h"

namespace posd::devices {

using State = posd::v1::DeviceState;
using Reason = posd::v1::DeviceStateReason;

struct DeviceStatus {
  State state = posd::v1::DEVICE_STATE_CONNECTING;
  Reason reason = posd::v1::DEVICE_STATE_REASON_UNSPECIFIED;
  std::string detail;  // specifics in English, e.g. "/dev/ttyUSB0 does not exist"
  std::chrono::system_clock::time_point changed_at{};
};

// Why a serial port could not be opened (SerialPort::Open's codes):
// NOT_FOUND -> PORT_MISSING, PERMISSION_DENIED -> PERMISSION_DENIED,
// FAILED_PRECONDITION -> PORT_BUSY, anything else -> LINK_DOWN.
Reason ReasonForOpenError(const absl::Status& status);

// The state a failed open leaves the device in: FAULT where a person must act
// (permissions, a device that is not a serial port), DISCONNECTED otherwise
// (posd keeps retrying either way, so a fix is picked up without a restart).
State StateForOpenError(const absl::Status& status);

// Why the transport went down: kPeerRestarted -> EPOCH_CHANGE, kClosed ->
// SHUTDOWN, everything else -> LINK_DOWN.
Reason ReasonForTransportDown(channel::TransportDownReason reason);

// Why TerminalChannel lost the terminal, from its text ("3 heartbeats
// unanswered", "no HelloAck within 5000 ms", "transport down: peer
// restarted ..."): HEARTBEAT_LOST, NO_HANDSHAKE, VERSION_MISMATCH,
// EPOCH_CHANGE, PROTOCOL_ERROR or LINK_DOWN.
Reason ReasonForChannelLoss(std::string_view text);

// "READY", "PORT_MISSING": the enum names without their prefixes.
std::string_view StateName(State state);
std::string_view ReasonName(Reason reason);

}  // namespace posd::devices
