// Where rendered receipts go.
//
// Deliver is idempotent per key where the medium allows (see each sink):
// the outbox runs a hook at least once, and a receipt must not come out
// twice. Errors are UNAVAILABLE (worth retrying: printer off, disk full) or
// INVALID_ARGUMENT (never deliverable).
//
// Thread safety: implementations are thread-safe.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace posd::plugins {

class ReceiptSink {
 public:
  virtual ~ReceiptSink() = default;
  // Delivers `bytes` once for `idempotency_key`.
  virtual absl::Status Deliver(std::string_view idempotency_key, std::string_view bytes) = 0;
};

}  // namespace posd::plugins
