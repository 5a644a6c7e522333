#include "plugins/receipt/receipt_plugin.h"

#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/hooks/plugin_registry.h"
#include "plugins/receipt/file_receipt_sink.h"
#include "plugins/receipt/serial_receipt_sink.h"

namespace posd::plugins {
namespace {

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("plugin \"receipt\": ", what));
}

// Sink problems at start name the plugin too.
absl::Status Named(const absl::Status& status) {
  return absl::Status(status.code(), ToAbsl(StrCat("plugin \"receipt\": ", status.message())));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReceiptPlugin>> ReceiptPlugin::Create(
    const receipt::ReceiptSettings& settings) {
  ReceiptLayout layout{.header_lines = {settings.header_lines().begin(),
                                        settings.header_lines().end()},
                       .footer_lines = {settings.footer_lines().begin(),
                                        settings.footer_lines().end()},
                       .line_width = settings.line_width() == 0 ? 42 : settings.line_width()};
  if (layout.line_width < 24 || layout.line_width > 64) {
    return Bad(StrCat("line_width ", layout.line_width, " is not between 24 and 64"));
  }
  if (settings.has_file() == settings.has_serial()) {
    return Bad("set exactly one sink: file or serial");
  }
  std::unique_ptr<ReceiptSink> sink;
  if (settings.has_file()) {
    if (settings.file().directory().empty()) return Bad("file.directory is required");
    absl::StatusOr<std::unique_ptr<FileReceiptSink>> file =
        FileReceiptSink::Create(settings.file().directory());
    if (!file.ok()) return Named(file.status());
    sink = *std::move(file);
  } else {
    const receipt::SerialSink& serial = settings.serial();
    if (serial.port().empty()) return Bad("serial.port is required");
    transport::SerialSettings port{.port = serial.port(),
                                   .baud = serial.baud() == 0 ? 9600 : serial.baud()};
    if (absl::Status valid = port.Validate(); !valid.ok()) {
      return Bad(StrCat("serial: ", valid.message()));
    }
    const int timeout_ms = serial.timeout_ms() == 0 ? 10'000 : serial.timeout_ms();
    if (timeout_ms < 0) return Bad("serial.timeout_ms is negative");
    absl::StatusOr<std::unique_ptr<SerialReceiptSink>> printer = SerialReceiptSink::Create(
        std::move(port), serial.journal(), std::chrono::milliseconds(timeout_ms));
    if (!printer.ok()) return Named(printer.status());
    sink = *std::move(printer);
  }
  return std::make_unique<ReceiptPlugin>(std::move(layout), std::move(sink));
}

absl::Status ReceiptPlugin::AfterPayment(const hooks::HookSubject& subject,
                                         const hooks::AfterHookContext& context) {
  return Print(subject, context);
}

absl::Status ReceiptPlugin::AfterRefund(const hooks::HookSubject& subject,
                                        const hooks::AfterHookContext& context) {
  return Print(subject, context);
}

absl::Status ReceiptPlugin::Print(const hooks::HookSubject& subject,
                                  const hooks::AfterHookContext& context) {
  POSD_ASSIGN_OR_RETURN(std::string bytes,
                        RenderEscPosReceipt(subject, context.hook_point, layout_));
  return sink_->Deliver(context.idempotency_key, bytes);
}

namespace {

class ReceiptPluginFactory final : public hooks::TypedPluginFactory<receipt::ReceiptSettings> {
 public:
  std::string_view name() const override { return ReceiptPlugin::kName; }
  std::string_view description() const override {
    return "ESC/POS receipts for payments and refunds, to files or a serial printer";
  }
  std::vector<hooks::HookPoint> hook_points() const override {
    return {hooks::HookPoint::kAfterPayment, hooks::HookPoint::kAfterRefund};
  }

 protected:
  absl::StatusOr<std::unique_ptr<hooks::Plugin>> CreateFromSettings(
      const receipt::ReceiptSettings& settings) const override {
    POSD_ASSIGN_OR_RETURN(std::unique_ptr<ReceiptPlugin> plugin, ReceiptPlugin::Create(settings));
    return std::unique_ptr<hooks::Plugin>(std::move(plugin));
  }
};

POSD_REGISTER_PLUGIN(ReceiptPluginFactory);

}  // namespace
}  // namespace posd::plugins
