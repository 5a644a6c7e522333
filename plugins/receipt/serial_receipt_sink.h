// Receipts to a printer on a serial port, through the transport layer
// (service/transport SerialPort). The port is opened for each receipt and
// closed after, so a printer switched off between receipts costs nothing and
// nothing holds the port while idle.
//
// Idempotency: with a journal file, each key is appended (and synced) after
// its receipt was handed to the port, and a key found there is not printed
// again. The window between handing over and journaling is the one place a
// crash can still give a second copy; without a journal every retry prints.
//
// Thread safety: thread-safe; deliveries are serialised.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "plugins/receipt/receipt_sink.h"
#include "service/transport/serial_settings.h"

namespace posd::plugins {

class SerialReceiptSink final : public ReceiptSink {
 public:
  // INVALID_ARGUMENT for bad settings; UNAVAILABLE when the journal exists
  // but cannot be read. Does not open the port.
  static absl::StatusOr<std::unique_ptr<SerialReceiptSink>> Create(
      transport::SerialSettings settings, std::string journal_path,
      std::chrono::milliseconds timeout);

  absl::Status Deliver(std::string_view idempotency_key, std::string_view bytes) override;

 private:
  SerialReceiptSink(transport::SerialSettings settings, std::string journal_path,
                    std::chrono::milliseconds timeout, std::set<std::string, std::less<>> printed)
      : settings_(std::move(settings)),
        journal_path_(std::move(journal_path)),
        timeout_(timeout),
        printed_(std::move(printed)) {}

  absl::Status Print(std::string_view bytes);
  absl::Status Journal(std::string_view key);

  const transport::SerialSettings settings_;
  const std::string journal_path_;
  const std::chrono::milliseconds timeout_;
  absl::Mutex mu_;
  std::set<std::string, std::less<>> printed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace posd::plugins
