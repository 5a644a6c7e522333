// What a beforeOrder hook sees and may change: the order as the pending
// change would leave it.
//
// The engine builds a draft, runs the beforeOrder chain over it and, if no
// plugin vetoed, commits the draft's order in the same transaction as the
// change, so a discount granted here exists exactly when the change does.
//
// Coupon use counts: a coupon with a use limit must know how often it was
// used, durably and consistently with the orders it was used on. Plugins keep
// no storage of their own for that; the engine counts it where the truth
// lives. coupon_uses() holds, for each code in coupon_codes(), the number of
// OTHER orders that are not CANCELED and carry a Discount with that code,
// including orders in the engine's not yet committed group-commit batch.
// Because the engine runs commands one at a time, two orders can never both
// take the last use.
//
// Thread safety: a plain value; not synchronised. Copyable (the hook chain
// hands each hook its own copy, see hook_chain.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "service/core/order.h"

namespace posd::hooks {

class HookChain;

// Who granted a discount and how to show it (AppliedDiscount in the API).
struct DiscountGrant {
  std::string code;         // core::Discount::code
  std::string plugin;       // set by the hook chain: the plugin whose hook granted it
  std::string description;  // for screens and receipts, e.g. "10% lunch menu"

  friend bool operator==(const DiscountGrant&, const DiscountGrant&) = default;
};

class OrderDraft {
 public:
  enum class Change {
    kCreate,  // CreateOrder
    kUpdate,  // UpdateOrder of an OPEN order
    kPlace,   // PlaceOrder: lines and discounts freeze after this run
  };

  // `order` is the order as the change would leave it (its discounts are the
  // ones granted so far); `coupon_codes` what the cashier or customer entered;
  // `coupon_uses` see above; `now` the wall time of the command, which is
  // what validity periods are judged by.
  OrderDraft(core::Order order, Change change, std::vector<std::string> coupon_codes,
             std::map<std::string, int64_t, std::less<>> coupon_uses,
             std::chrono::system_clock::time_point now)
      : order_(std::move(order)),
        change_(change),
        coupon_codes_(std::move(coupon_codes)),
        coupon_uses_(std::move(coupon_uses)),
        now_(now) {}

  const core::Order& order() const { return order_; }
  Change change() const { return change_; }
  const std::vector<std::string>& coupon_codes() const { return coupon_codes_; }
  bool HasCouponCode(std::string_view code) const;
  // Uses of `code` by other orders (0 when the engine reported none).
  int64_t CouponUses(std::string_view code) const;
  std::chrono::system_clock::time_point now() const { return now_; }

  // Grants `discount`, replacing a discount with the same code (hooks run on
  // every change of an OPEN order, so a plugin recomputes rather than adds
  // again). INVALID_ARGUMENT when the code is empty, the amount is not
  // positive or in another currency; FAILED_PRECONDITION when the discounts
  // would exceed the order's subtotal. The draft is unchanged on error.
  // `description` is shown on screens and receipts.
  absl::Status SetDiscount(core::Discount discount, std::string description = {});
  // Withdraws the discount with `code`, if any (e.g. its coupon code was
  // removed from the order). Returns whether one was removed.
  bool RemoveDiscount(std::string_view code);

  // Discounts set through this draft (not those the order already had), by
  // the plugin that set them, in the order they were first set.
  const std::vector<DiscountGrant>& grants() const { return grants_; }

  // The order to commit.
  core::Order TakeOrder() && { return std::move(order_); }

 private:
  core::Order order_;
  Change change_;
  std::vector<std::string> coupon_codes_;
  std::map<std::string, int64_t, std::less<>> coupon_uses_;
  std::chrono::system_clock::time_point now_;
  std::vector<DiscountGrant> grants_;
  // Set by the hook chain around each plugin's hook.
  friend class HookChain;
  std::string acting_plugin_;
};

}  // namespace posd::hooks
