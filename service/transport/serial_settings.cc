#include "service/transport/serial_settings.h"

#include <array>
#include <utility>

#include "absl/strings/str_join.h"
#include "service/common/strings.h"
#include "service/transport/termios_config.h"

namespace posd::transport {
namespace {

constexpr std::array<std::pair<Parity, std::string_view>, 5> kParityNames = {{
    {Parity::kNone, "none"},
    {Parity::kOdd, "odd"},
    {Parity::kEven, "even"},
    {Parity::kMark, "mark"},
    {Parity::kSpace, "space"},
}};
constexpr std::array<std::pair<StopBits, std::string_view>, 2> kStopBitsNames = {{
    {StopBits::kOne, "1"},
    {StopBits::kTwo, "2"},
}};
constexpr std::array<std::pair<FlowControl, std::string_view>, 4> kFlowControlNames = {{
    {FlowControl::kNone, "none"},
    {FlowControl::kXonXoff, "xonxoff"},
    {FlowControl::kRtsCts, "rtscts"},
    {FlowControl::kDtrDsr, "dtrdsr"},
}};

// Enums read from configuration may hold any integer; "" marks such a value.
template <typename Enum, std::size_t N>
std::string_view NameOf(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum value) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "";
}

template <typename Enum, std::size_t N>
absl::StatusOr<Enum> Parse(const std::array<std::pair<Enum, std::string_view>, N>& names,
                           std::string_view field, std::string_view text) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  return absl::InvalidArgumentError(StrCat(
      field, " '", text, "' is not one of ",
      absl::StrJoin(names, ", ",
                    [](std::string* out, const auto& entry) { out->append(entry.second); })));
}

}  // namespace

bool IsStandardBaudRate(int baud) { return BaudToSpeed(baud).has_value(); }

std::string_view ParityName(Parity parity) { return NameOf(kParityNames, parity); }
std::string_view StopBitsName(StopBits stop_bits) { return NameOf(kStopBitsNames, stop_bits); }
std::string_view FlowControlName(FlowControl flow_control) {
  return NameOf(kFlowControlNames, flow_control);
}

absl::StatusOr<Parity> ParseParity(std::string_view name) {
  return Parse(kParityNames, "parity", name);
}
absl::StatusOr<StopBits> ParseStopBits(std::string_view name) {
  return Parse(kStopBitsNames, "stop_bits", name);
}
absl::StatusOr<FlowControl> ParseFlowControl(std::string_view name) {
  return Parse(kFlowControlNames, "flow_control", name);
}

absl::Status SerialSettings::Validate() const {
  if (port.empty()) {
    return absl::InvalidArgumentError("port must name a device, e.g. /dev/ttyUSB0; it is empty");
  }
  if (port.front() != '/') {
    return absl::InvalidArgumentError(
        StrCat("port '", port, "' must be an absolute device path, e.g. /dev/ttyUSB0"));
  }
  if (!IsStandardBaudRate(baud)) {
    return absl::InvalidArgumentError(StrCat("baud ", baud,
                                             " is not a standard termios rate (one of ",
                                             absl::StrJoin(StandardBaudRates(), ", "), ")"));
  }
  if (data_bits < 5 || data_bits > 8) {
    return absl::InvalidArgumentError(StrCat("data_bits ", data_bits, " is out of range (5 to 8)"));
  }
  if (ParityName(parity).empty()) {
    return absl::InvalidArgumentError(
        StrCat("parity ", static_cast<int>(parity), " is not a known parity"));
  }
  if (StopBitsName(stop_bits).empty()) {
    return absl::InvalidArgumentError(
        StrCat("stop_bits ", static_cast<int>(stop_bits), " is not a known stop bit count"));
  }
  if (FlowControlName(flow_control).empty()) {
    return absl::InvalidArgumentError(
        StrCat("flow_control ", static_cast<int>(flow_control), " is not a known flow control"));
  }
  return absl::OkStatus();
}

}  // namespace posd::transport
