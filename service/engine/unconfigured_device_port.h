// The device port of a posd without terminal support: it knows no terminal,
// so every request is refused before anything is recorded (NOT_FOUND "no
// terminal named X is configured"). Honest rather than a fake success; the
// terminal driver replaces it.
//
// Thread-safe and stateless.
#pragma once

#include "service/engine/device_port.h"

namespace posd::engine {

class UnconfiguredDevicePort final : public DevicePort {
 public:
  void SetEvents(DeviceEvents*) override {}
  absl::Status CheckReady(std::string_view device_id) override;
  absl::Status StartSale(const SaleRequest& request) override;
  absl::Status StartRefund(const RefundRequest& request) override;
  absl::Status Cancel(std::string_view device_id, std::string_view transaction_id) override;
  absl::Status QueryStatus(std::string_view device_id, std::string_view transaction_id) override;
};

}  // namespace posd::engine
