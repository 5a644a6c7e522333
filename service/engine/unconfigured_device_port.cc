#include "service/engine/unconfigured_device_port.h"

#include "service/common/strings.h"

namespace posd::engine {
namespace {

absl::Status NoSuchTerminal(std::string_view device_id) {
  return absl::NotFoundError(StrCat("no terminal named ", device_id,
                                    " is configured (this posd has no terminals)"));
}

}  // namespace

absl::Status UnconfiguredDevicePort::CheckReady(std::string_view device_id) {
  return NoSuchTerminal(device_id);
}
absl::Status UnconfiguredDevicePort::StartSale(const SaleRequest& request) {
  return NoSuchTerminal(request.device_id);
}
absl::Status UnconfiguredDevicePort::StartRefund(const RefundRequest& request) {
  return NoSuchTerminal(request.device_id);
}
absl::Status UnconfiguredDevicePort::Cancel(std::string_view device_id, std::string_view) {
  return NoSuchTerminal(device_id);
}
absl::Status UnconfiguredDevicePort::QueryStatus(std::string_view device_id, std::string_view) {
  return NoSuchTerminal(device_id);
}

}  // namespace posd::engine
