#include "service/transport/port_enumerator.h"

#include <libserialport.h>

#include <algorithm>
#include <memory>

#include "service/common/strings.h"

namespace posd::transport {
namespace {

struct PortListDeleter {
  void operator()(sp_port** list) const { sp_free_port_list(list); }
};

// libserialport returns NULL for absent strings; the struct uses "".
std::string OrEmpty(const char* text) { return text != nullptr ? text : ""; }

PortTransport ToTransport(sp_transport transport) {
  switch (transport) {
    case SP_TRANSPORT_NATIVE:
      return PortTransport::kNative;
    case SP_TRANSPORT_USB:
      return PortTransport::kUsb;
    case SP_TRANSPORT_BLUETOOTH:
      return PortTransport::kBluetooth;
  }
  return PortTransport::kUnknown;
}

PortInfo Describe(const sp_port* port) {
  PortInfo info;
  info.name = OrEmpty(sp_get_port_name(port));
  info.description = OrEmpty(sp_get_port_description(port));
  info.transport = ToTransport(sp_get_port_transport(port));
  if (info.transport == PortTransport::kUsb) {
    int vendor = 0;
    int product = 0;
    if (sp_get_port_usb_vid_pid(port, &vendor, &product) == SP_OK) {
      info.usb_vendor_id = static_cast<std::uint16_t>(vendor);
      info.usb_product_id = static_cast<std::uint16_t>(product);
    }
    int bus = 0;
    int address = 0;
    if (sp_get_port_usb_bus_address(port, &bus, &address) == SP_OK) {
      info.usb_bus = bus;
      info.usb_address = address;
    }
    info.manufacturer = OrEmpty(sp_get_port_usb_manufacturer(port));
    info.product = OrEmpty(sp_get_port_usb_product(port));
    info.serial_number = OrEmpty(sp_get_port_usb_serial(port));
  } else if (info.transport == PortTransport::kBluetooth) {
    info.bluetooth_address = OrEmpty(sp_get_port_bluetooth_address(port));
  }
  return info;
}

}  // namespace

std::string_view PortTransportName(PortTransport transport) {
  switch (transport) {
    case PortTransport::kNative:
      return "native";
    case PortTransport::kUsb:
      return "usb";
    case PortTransport::kBluetooth:
      return "bluetooth";
    case PortTransport::kUnknown:
      break;
  }
  return "unknown";
}

absl::StatusOr<std::vector<PortInfo>> ListSerialPorts() {
  sp_port** raw_list = nullptr;
  if (sp_return result = sp_list_ports(&raw_list); result != SP_OK) {
    char* message = sp_last_error_message();
    absl::Status status = absl::UnavailableError(
        StrCat("cannot list serial ports: ", message != nullptr ? message : "unknown error"));
    sp_free_error_message(message);
    return status;
  }
  std::unique_ptr<sp_port*, PortListDeleter> list(raw_list);
  std::vector<PortInfo> ports;
  for (sp_port** entry = list.get(); *entry != nullptr; ++entry) {
    ports.push_back(Describe(*entry));
  }
  std::sort(ports.begin(), ports.end(),
            [](const PortInfo& a, const PortInfo& b) { return a.name < b.name; });
  return ports;
}

}  // namespace posd::transport
