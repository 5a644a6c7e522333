// The "receipt" plugin: after a payment is approved or a refund completed,
// renders an ESC/POS receipt (escpos_receipt.h) and delivers it to the
// configured sink (a directory of files or a serial printer), once per hook
// run's idempotency key. Settings: receipt_settings.proto and README.md.
//
// Thread safety: immutable after Create except the sink, which is
// thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "plugins/receipt/escpos_receipt.h"
#include "plugins/receipt/receipt_settings.pb.h"
#include "plugins/receipt/receipt_sink.h"
#include "service/hooks/plugin.h"

namespace posd::plugins {

class ReceiptPlugin final : public hooks::Plugin {
 public:
  static constexpr std::string_view kName = "receipt";

  static absl::StatusOr<std::unique_ptr<ReceiptPlugin>> Create(
      const receipt::ReceiptSettings& settings);
  // For tests: any sink.
  ReceiptPlugin(ReceiptLayout layout, std::unique_ptr<ReceiptSink> sink)
      : layout_(std::move(layout)), sink_(std::move(sink)) {}

  std::string_view name() const override { return kName; }
  std::vector<hooks::HookPoint> hook_points() const override {
    return {hooks::HookPoint::kAfterPayment, hooks::HookPoint::kAfterRefund};
  }
  absl::Status AfterPayment(const hooks::HookSubject& subject,
                            const hooks::AfterHookContext& context) override;
  absl::Status AfterRefund(const hooks::HookSubject& subject,
                           const hooks::AfterHookContext& context) override;

 private:
  absl::Status Print(const hooks::HookSubject& subject, const hooks::AfterHookContext& context);

  const ReceiptLayout layout_;
  const std::unique_ptr<ReceiptSink> sink_;
};

}  // namespace posd::plugins
