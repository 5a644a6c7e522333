#include "service/core/order.h"

#include "service/common/error_info.h"
#include "service/common/strings.h"
#include "service/common/status_macros.h"

namespace posd::core {
namespace {

absl::Status ValidateLine(const Order& order, std::size_t index, const OrderLine& line) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        posd::StrCat("order ", order.id.str(), " line ", index + 1, " ('", line.sku, "'): ", why));
  };
  if (line.sku.empty()) return invalid("sku is required");
  if (line.quantity <= 0) return invalid(posd::StrCat("quantity must be > 0, got ", line.quantity));
  if (line.unit_price.currency() != order.currency) {
    return invalid(posd::StrCat("unit price ", line.unit_price.ToString(),
                                " is not in the order's currency ", order.currency.code()));
  }
  if (line.unit_price.is_negative()) {
    return invalid(posd::StrCat("unit price must not be negative, got ",
                                line.unit_price.ToString()));
  }
  const std::string field = posd::StrCat("order.lines[", index, "]");
  POSD_RETURN_IF_ERROR(CheckAmountLimit(line.unit_price, posd::StrCat(field, ".unit_price")));
  // The line total is bounded like any amount, so the sums over lines that
  // follow cannot come near int64's range.
  absl::StatusOr<Money> total = line.Total();
  if (total.ok()) return CheckAmountLimit(*total, posd::StrCat(field, ".quantity"));
  return posd::InvalidFieldError(
      posd::StrCat(field, ".quantity"),
      posd::StrCat("order ", order.id.str(), " line ", index + 1, ": ", line.quantity, " x ",
                   line.unit_price.ToString(), " is beyond any amount posd can record"));
}

absl::Status ValidateDiscount(const Order& order, std::size_t index, const Discount& discount) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(posd::StrCat("order ", order.id.str(), " discount ",
                                                   index + 1, " ('", discount.code, "'): ", why));
  };
  if (discount.code.empty()) return invalid("code is required");
  if (discount.amount.currency() != order.currency) {
    return invalid(posd::StrCat("amount ", discount.amount.ToString(),
                                " is not in the order's currency ", order.currency.code()));
  }
  if (!discount.amount.is_positive()) {
    return invalid(posd::StrCat("amount must be > 0, got ", discount.amount.ToString()));
  }
  return CheckAmountLimit(discount.amount, posd::StrCat("order.discounts[", index, "].amount"));
}

}  // namespace

absl::StatusOr<Money> Order::Subtotal() const {
  Money subtotal = Money::Zero(currency);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    POSD_RETURN_IF_ERROR(ValidateLine(*this, i, lines[i]));
    POSD_ASSIGN_OR_RETURN(Money line_total, lines[i].Total());
    POSD_ASSIGN_OR_RETURN(subtotal, subtotal.Add(line_total));
  }
  POSD_RETURN_IF_ERROR(CheckAmountLimit(subtotal, "order.lines"));
  return subtotal;
}

absl::StatusOr<Money> Order::Total() const {
  POSD_ASSIGN_OR_RETURN(Money subtotal, Subtotal());
  Money discounted = Money::Zero(currency);
  for (std::size_t i = 0; i < discounts.size(); ++i) {
    POSD_RETURN_IF_ERROR(ValidateDiscount(*this, i, discounts[i]));
    POSD_ASSIGN_OR_RETURN(discounted, discounted.Add(discounts[i].amount));
  }
  if (discounted > subtotal) {
    return absl::InvalidArgumentError(posd::StrCat("order ", id.str(), ": discounts of ",
                                                   discounted.ToString(),
                                                   " exceed the subtotal of ", subtotal.ToString()));
  }
  return subtotal.Subtract(discounted);
}

}  // namespace posd::core
