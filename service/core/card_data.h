// What posd may know about a card: the brand and a masked PAN, as the
// terminal reports them. posd never receives or stores a full PAN, track data
// or CVV (DESIGN.md, "No card data at rest"); MaskedPan is the gate that
// enforces it for anything the terminal sends back.
//
// Thread safety: plain values.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace posd::core {

// A primary account number with at most its first 6 and last 4 digits
// visible and every other position masked with '*', e.g. "411111******1111"
// or "************1111". Always 12 to 19 characters (the lengths of real
// PANs), so at least two positions are masked.
class MaskedPan {
 public:
  // INVALID_ARGUMENT for anything else: other characters, a wrong length, a
  // digit in a position that must be masked, or an unmasked number. Error
  // messages never repeat the input: it might be a real card number.
  static absl::StatusOr<MaskedPan> Parse(std::string_view text);

  const std::string& str() const { return text_; }
  // The last four characters ("1111"), which receipts and UIs show.
  std::string_view last_four() const {
    return std::string_view(text_).substr(text_.size() - 4);
  }

  friend bool operator==(const MaskedPan&, const MaskedPan&) = default;

 private:
  explicit MaskedPan(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

std::ostream& operator<<(std::ostream& os, const MaskedPan& pan);

struct CardData {
  std::string brand = {};  // as the terminal names it: "VISA", "MASTERCARD", "GIROCARD", ...
  MaskedPan masked_pan;

  friend bool operator==(const CardData&, const CardData&) = default;
};

}  // namespace posd::core
