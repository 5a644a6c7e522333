// Receipts as files: one file per receipt in a directory, named after the
// idempotency key ("<key>.escpos", with characters other than letters,
// digits, '_', '-' and '.' replaced by '_'). A key whose file exists is done:
// delivering it again writes nothing. Files appear whole or not at all
// (written to a temporary name, synced, then linked into place).
//
// Thread safety: thread-safe (the file system arbitrates).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "plugins/receipt/receipt_sink.h"

namespace posd::plugins {

class FileReceiptSink final : public ReceiptSink {
 public:
  // NOT_FOUND when `directory` does not exist or is not a directory.
  static absl::StatusOr<std::unique_ptr<FileReceiptSink>> Create(std::string directory);

  absl::Status Deliver(std::string_view idempotency_key, std::string_view bytes) override;
  // The path a key's receipt is written to.
  std::string PathFor(std::string_view idempotency_key) const;

 private:
  explicit FileReceiptSink(std::string directory) : directory_(std::move(directory)) {}
  std::string directory_;
};

}  // namespace posd::plugins
