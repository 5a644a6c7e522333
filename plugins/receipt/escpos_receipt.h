// Renders a payment or refund receipt as ESC/POS bytes, the command language
// of nearly every receipt printer.
//
// Card data: only the brand and the last four digits of the masked PAN are
// printed ("VISA ************1111"), even though posd may hold the first six
// as well: a receipt leaves the shop in the customer's pocket.
//
// Text: item names and other text come from UIs and terminals. Everything
// outside printable ASCII is replaced by '?', so no text can smuggle printer
// commands (an ESC in an item name) or print as garbage on a printer whose
// code page is unknown.
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/hooks/hook_point.h"
#include "service/hooks/hook_subject.h"

namespace posd::plugins {

struct ReceiptLayout {
  std::vector<std::string> header_lines = {};
  std::vector<std::string> footer_lines = {};
  int line_width = 42;
};

// The receipt for an afterPayment (sale) or afterRefund (marked REFUND)
// subject. INVALID_ARGUMENT for another hook point or a subject without the
// needed parts; OUT_OF_RANGE if an amount overflows.
absl::StatusOr<std::string> RenderEscPosReceipt(const hooks::HookSubject& subject,
                                                hooks::HookPoint point,
                                                const ReceiptLayout& layout);

}  // namespace posd::plugins
