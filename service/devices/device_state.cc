#include "service/devices/device_state.h"

#include "service/channel/terminal_channel.h"

namespace posd::devices {
namespace {

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string_view StripPrefix(const std::string& name, std::string_view prefix) {
  std::string_view view(name);
  if (view.substr(0, prefix.size()) == prefix) view.remove_prefix(prefix.size());
  return view;
}

}  // namespace

Reason ReasonForOpenError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound: return posd::v1::DEVICE_STATE_REASON_PORT_MISSING;
    case absl::StatusCode::kPermissionDenied:
      return posd::v1::DEVICE_STATE_REASON_PERMISSION_DENIED;
    case absl::StatusCode::kFailedPrecondition: return posd::v1::DEVICE_STATE_REASON_PORT_BUSY;
    default: return posd::v1::DEVICE_STATE_REASON_LINK_DOWN;
  }
}

State StateForOpenError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnimplemented: return posd::v1::DEVICE_STATE_FAULT;
    default: return posd::v1::DEVICE_STATE_DISCONNECTED;
  }
}

Reason ReasonForTransportDown(channel::TransportDownReason reason) {
  switch (reason) {
    case channel::TransportDownReason::kPeerRestarted:
      return posd::v1::DEVICE_STATE_REASON_EPOCH_CHANGE;
    case channel::TransportDownReason::kClosed: return posd::v1::DEVICE_STATE_REASON_SHUTDOWN;
    default: return posd::v1::DEVICE_STATE_REASON_LINK_DOWN;
  }
}

Reason ReasonForChannelLoss(std::string_view text) {
  if (Contains(text, channel::kWrongTerminalPrefix)) {
    return posd::v1::DEVICE_STATE_REASON_WRONG_TERMINAL;
  }
  if (Contains(text, "heartbeat")) return posd::v1::DEVICE_STATE_REASON_HEARTBEAT_LOST;
  if (Contains(text, "protocol version")) return posd::v1::DEVICE_STATE_REASON_VERSION_MISMATCH;
  if (Contains(text, "HelloAck") || Contains(text, "refused Hello") ||
      Contains(text, "NOT_READY")) {
    return posd::v1::DEVICE_STATE_REASON_NO_HANDSHAKE;
  }
  if (Contains(text, "peer restarted")) return posd::v1::DEVICE_STATE_REASON_EPOCH_CHANGE;
  if (Contains(text, "malformed") || Contains(text, "unexpected") || Contains(text, "protocol")) {
    return posd::v1::DEVICE_STATE_REASON_PROTOCOL_ERROR;
  }
  return posd::v1::DEVICE_STATE_REASON_LINK_DOWN;
}

std::string_view StateName(State state) {
  static const auto* const kNames = [] {
    auto* names = new std::string[6];
    for (int i = 0; i < 6; ++i) names[i] = posd::v1::DeviceState_Name(static_cast<State>(i));
    return names;
  }();
  if (state < 0 || state > 5) return "UNKNOWN";
  return StripPrefix(kNames[state], "DEVICE_STATE_");
}

std::string_view ReasonName(Reason reason) {
  constexpr int kReasonCount = posd::v1::DeviceStateReason_MAX + 1;
  static const auto* const kNames = [] {
    auto* names = new std::string[kReasonCount];
    for (int i = 0; i < kReasonCount; ++i) {
      names[i] = posd::v1::DeviceStateReason_Name(static_cast<Reason>(i));
    }
    return names;
  }();
  if (reason < 0 || reason >= kReasonCount) return "UNKNOWN";
  return StripPrefix(kNames[reason], "DEVICE_STATE_REASON_");
}

}  // namespace posd::devices
