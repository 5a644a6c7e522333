#include "plugins/receipt/escpos_receipt.h"

#include <ctime>

#include "service/common/status_macros.h"
#include "service/common/strings.h"

namespace posd::plugins {
namespace {

using namespace std::string_view_literals;

// ESC/POS commands used (Epson ESC/POS reference). The sv suffix keeps the
// NUL bytes some of them end with.
constexpr std::string_view kInit = "\x1b@"sv;             // ESC @: reset
constexpr std::string_view kAlignLeft = "\x1b" "a\x00"sv; // ESC a 0
constexpr std::string_view kAlignCenter = "\x1b" "a\x01"sv;
constexpr std::string_view kBoldOn = "\x1b" "E\x01"sv;    // ESC E 1
constexpr std::string_view kBoldOff = "\x1b" "E\x00"sv;
constexpr std::string_view kDoubleSize = "\x1d!\x11"sv;   // GS ! : double width and height
constexpr std::string_view kNormalSize = "\x1d!\x00"sv;
constexpr std::string_view kFeedLines = "\x1b" "d\x04"sv; // ESC d 4: feed past the cutter
constexpr std::string_view kCut = "\x1dV\x42\x00"sv;      // GS V 66 0: feed and partial cut

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

class Writer {
 public:
  explicit Writer(int width) : width_(width) {}
  void Raw(std::string_view bytes) { out_.append(bytes); }
  void Line(std::string_view text) {
    out_.append(Printable(text).substr(0, width_));
    out_.push_back('\n');
  }
  // `left` and `right` on one line, `left` shortened to fit.
  void Columns(std::string_view left, std::string_view right, int width) {
    std::string l = Printable(left);
    const std::string r = Printable(right);
    const int room = width - static_cast<int>(r.size()) - 1;
    if (room < 1) {
      Line(r);
      return;
    }
    if (static_cast<int>(l.size()) > room) l.resize(room);
    out_.append(l);
    out_.append(width - l.size() - r.size(), ' ');
    out_.append(r);
    out_.push_back('\n');
  }
  void Columns(std::string_view left, std::string_view right) { Columns(left, right, width_); }
  void Rule() { Line(std::string(width_, '-')); }
  std::string Take() && { return std::move(out_); }

 private:
  int width_;
  std::string out_;
};

std::string Utc(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

std::string Negative(const core::Money& amount) { return StrCat("-", amount.ToString()); }

void CardLines(Writer& w, const core::Payment& payment) {
  if (payment.card) {
    const std::string_view last_four = payment.card->masked_pan.last_four();
    const size_t masked = payment.card->masked_pan.str().size() - last_four.size();
    w.Line(StrCat(payment.card->brand, " ", std::string(masked, '*'), last_four));
  }
  if (!payment.approval_code.empty()) w.Columns("Approval", payment.approval_code);
}

}  // namespace

absl::StatusOr<std::string> RenderEscPosReceipt(const hooks::HookSubject& subject,
                                                hooks::HookPoint point,
                                                const ReceiptLayout& layout) {
  if (point != hooks::HookPoint::kAfterPayment && point != hooks::HookPoint::kAfterRefund) {
    return absl::InvalidArgumentError(StrCat("no receipt for ", ToString(point)));
  }
  POSD_RETURN_IF_ERROR(subject.ValidateFor(point));
  const bool refund = point == hooks::HookPoint::kAfterRefund;
  const core::Payment& payment = *subject.payment;

  Writer w(layout.line_width);
  w.Raw(kInit);
  w.Raw(kAlignCenter);
  for (const std::string& line : layout.header_lines) w.Line(line);
  if (refund) {
    w.Raw(kBoldOn);
    w.Raw(kDoubleSize);
    w.Line("REFUND");
    w.Raw(kNormalSize);
    w.Raw(kBoldOff);
  }
  w.Raw(kAlignLeft);
  w.Rule();

  if (subject.order && !refund) {
    for (const core::OrderLine& line : subject.order->lines) {
      POSD_ASSIGN_OR_RETURN(core::Money total, line.Total());
      const std::string name = line.name.empty() ? line.sku : line.name;
      w.Columns(StrCat(line.quantity, " x ", name), total.ToString());
    }
    for (const core::Discount& discount : subject.order->discounts) {
      w.Columns(StrCat("Discount ", discount.code), Negative(discount.amount));
    }
    w.Rule();
  }

  if (refund) {
    const core::Refund& r = *subject.refund;
    w.Columns("Original payment", payment.id.str());
    if (!r.reason.empty()) w.Line(StrCat("Reason: ", r.reason));
    w.Raw(kBoldOn);
    w.Raw(kDoubleSize);
    w.Columns("REFUND", Negative(r.amount), layout.line_width / 2);
  } else {
    w.Columns("Amount", payment.amount.ToString());
    if (!payment.tip.is_zero()) w.Columns("Tip", payment.tip.ToString());
    POSD_ASSIGN_OR_RETURN(core::Money charged, payment.ChargeTotal());
    w.Raw(kBoldOn);
    w.Raw(kDoubleSize);
    w.Columns("TOTAL", charged.ToString(), layout.line_width / 2);
  }
  w.Raw(kNormalSize);
  w.Raw(kBoldOff);
  w.Rule();

  CardLines(w, payment);
  const std::string& reference =
      refund ? subject.refund->terminal_reference : payment.terminal_reference;
  if (!reference.empty()) w.Columns("Terminal ref", reference);
  // Ids are too long to share a line on narrow paper.
  w.Line(refund ? "Refund id" : "Payment id");
  w.Line(refund ? subject.refund->id.str() : payment.id.str());
  w.Line(Utc(refund ? subject.refund->updated_at : payment.updated_at));

  if (!layout.footer_lines.empty()) {
    w.Raw(kAlignCenter);
    for (const std::string& line : layout.footer_lines) w.Line(line);
    w.Raw(kAlignLeft);
  }
  w.Raw(kFeedLines);
  w.Raw(kCut);
  return std::move(w).Take();
}

}  // namespace posd::plugins
