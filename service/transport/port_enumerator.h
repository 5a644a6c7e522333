// Lists the machine's serial ports, e.g. for `posctl devices ports` and for
// finding a terminal's USB adapter by vendor/product id or serial number.
//
// Uses libserialport (sp_list_ports), which reads sysfs. It lists USB,
// Bluetooth and on-board ports but not pseudo-terminals. For the serial8250
// driver, whose port count is fixed at boot, libserialport itself briefly
// opens each candidate (non-blocking, no configuration, no I/O) to tell which
// exist; posd never opens listed ports. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace posd::transport {

enum class PortTransport { kUnknown, kNative, kUsb, kBluetooth };

// "native", "usb", "bluetooth" or "unknown".
std::string_view PortTransportName(PortTransport transport);

struct PortInfo {
  // Device path to pass to SerialSettings::port, e.g. "/dev/ttyUSB0".
  std::string name;
  // Human-readable, from the driver or USB descriptors; may be empty.
  std::string description;
  PortTransport transport = PortTransport::kUnknown;
  // USB only (empty/nullopt otherwise or when the device does not say).
  std::optional<std::uint16_t> usb_vendor_id;
  std::optional<std::uint16_t> usb_product_id;
  std::optional<int> usb_bus;
  std::optional<int> usb_address;
  std::string manufacturer;
  std::string product;
  std::string serial_number;
  // Bluetooth only.
  std::string bluetooth_address;
};

// Every serial port libserialport finds, sorted by name. An empty list (not
// an error) on a machine without ports. UNAVAILABLE when enumeration fails.
absl::StatusOr<std::vector<PortInfo>> ListSerialPorts();

}  // namespace posd::transport
