// What a beforePayment hook sees and may change: the payment about to be
// created, before it reaches a terminal.
//
// The engine builds a draft, runs the beforePayment chain and, if no plugin
// vetoed, creates the draft's payment (with the tip the hooks left) in the
// same transaction that records it, so the terminal is asked for exactly the
// committed amount + tip.
//
// parameters(): choices a UI made for plugins (e.g. "tip.preset" = "1"), as
// free-form text keys and values; each plugin documents the keys it reads in
// its README. The engine passes them through from the request unchanged.
//
// Thread safety: a plain value; not synchronised. Copyable.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "service/core/money.h"
#include "service/core/order.h"
#include "service/core/payment.h"

namespace posd::hooks {

class PaymentDraft {
 public:
  // `payment` in CREATED with the requested amount and tip; `order` the order
  // it pays, absent for a quick sale.
  PaymentDraft(core::Payment payment, std::optional<core::Order> order,
               std::map<std::string, std::string, std::less<>> parameters,
               std::chrono::system_clock::time_point now)
      : payment_(std::move(payment)),
        order_(std::move(order)),
        parameters_(std::move(parameters)),
        now_(now) {}

  const core::Payment& payment() const { return payment_; }
  const std::optional<core::Order>& order() const { return order_; }
  const std::map<std::string, std::string, std::less<>>& parameters() const { return parameters_; }
  // The value of parameter `key`, if the UI passed it.
  std::optional<std::string_view> parameter(std::string_view key) const;
  std::chrono::system_clock::time_point now() const { return now_; }

  // Sets the tip charged on top of the amount. INVALID_ARGUMENT when
  // negative or in another currency; OUT_OF_RANGE when amount + tip would
  // overflow. The draft is unchanged on error.
  absl::Status SetTip(core::Money tip);

  core::Payment TakePayment() && { return std::move(payment_); }

 private:
  core::Payment payment_;
  std::optional<core::Order> order_;
  std::map<std::string, std::string, std::less<>> parameters_;
  std::chrono::system_clock::time_point now_;
};

}  // namespace posd::hooks
