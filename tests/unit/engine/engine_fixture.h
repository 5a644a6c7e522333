// A store in a temporary folder, a fake terminal fleet and an engine over
// them, plus helpers to call commands synchronously and to wait for a
// condition that events make true (bounded, never a fixed sleep).
#pragma once

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/random_source.h"
#include "service/engine/engine.h"
#include "service/store/store.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/engine/fake_device_port.h"

namespace posd::engine::testing {

// Wakes waiters whenever events are published.
class EventWaiter final : public EventListener {
 public:
  void OnNewHead(uint64_t) override { Poke(); }
  void OnLive(const posd::v1::Event&) override { Poke(); }
  void OnClose() override { Poke(); }

  // True once `predicate` holds; false after `timeout`.
  template <typename Predicate>
  bool WaitUntil(Predicate predicate, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    while (true) {
      const uint64_t seen = pokes_;
      lock.unlock();
      if (predicate()) return true;
      lock.lock();
      if (!changed_.wait_until(lock, deadline, [&] { return pokes_ != seen; })) return predicate();
    }
  }

 private:
  void Poke() {
    {
      const std::lock_guard lock(mutex_);
      ++pokes_;
    }
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t pokes_ = 0;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    devices_.AddDevice("counter-1");
    OpenEngine();
  }
  void TearDown() override { CloseEngine(); }

  void OpenEngine() {
    auto store = store::Store::Open({.path = dir_.File("posd.db").string()});
    ASSERT_THAT(store, ::posd::testing::IsOk());
    store_ = *std::move(store);
    auto engine = Engine::Start({.store = store_.get(), .devices = &devices_, .hooks = hooks_,
                                 .random = &random_});
    ASSERT_THAT(engine, ::posd::testing::IsOk());
    engine_ = *std::move(engine);
    ASSERT_TRUE(engine_->broadcaster().Subscribe(&waiter_));
  }
  void CloseEngine() {
    if (engine_ != nullptr) {
      engine_->broadcaster().Unsubscribe(&waiter_);
      engine_->Stop();
      engine_.reset();
    }
    store_.reset();
  }

  template <typename T, typename Request>
  absl::StatusOr<T> Call(void (Engine::*method)(const Actor&, const Request&, Callback<T>),
                         const Request& request, Actor actor = Actor{"tester", "operator"}) {
    std::promise<absl::StatusOr<T>> promise;
    auto future = promise.get_future();
    (engine_.get()->*method)(actor, request,
                             [&promise](absl::StatusOr<T> result) { promise.set_value(std::move(result)); });
    return future.get();
  }

  // A placed order with one line of `total_minor` EUR.
  posd::v1::Order PlacedOrder(int64_t total_minor) {
    posd::v1::CreateOrderRequest create;
    create.set_request_id("create-" + std::to_string(++request_counter_));
    create.mutable_order()->set_currency_code("EUR");
    auto* line = create.mutable_order()->add_lines();
    line->set_sku("coffee");
    line->set_name("Coffee");
    line->set_quantity(1);
    line->mutable_unit_price()->set_amount_minor(total_minor);
    line->mutable_unit_price()->set_currency_code("EUR");
    auto order = Call(&Engine::CreateOrder, create);
    EXPECT_THAT(order, ::posd::testing::IsOk());
    posd::v1::PlaceOrderRequest place;
    place.set_request_id("place-" + std::to_string(++request_counter_));
    place.set_order_id(order->id());
    auto placed = Call(&Engine::PlaceOrder, place);
    EXPECT_THAT(placed, ::posd::testing::IsOk());
    return *placed;
  }

  posd::v1::CreatePaymentRequest PaymentRequest(const std::string& order_id, int64_t amount,
                                                int64_t tip = 0) {
    posd::v1::CreatePaymentRequest request;
    request.set_request_id("pay-" + std::to_string(++request_counter_));
    request.mutable_payment()->set_order_id(order_id);
    request.mutable_payment()->set_device_id("counter-1");
    request.mutable_payment()->mutable_amount()->set_amount_minor(amount);
    request.mutable_payment()->mutable_amount()->set_currency_code("EUR");
    request.mutable_payment()->mutable_tip()->set_amount_minor(tip);
    request.mutable_payment()->mutable_tip()->set_currency_code("EUR");
    return request;
  }

  absl::StatusOr<posd::v1::Payment> Pay(const std::string& order_id, int64_t amount,
                                        int64_t tip = 0) {
    return Call(&Engine::CreatePayment, PaymentRequest(order_id, amount, tip));
  }

  bool WaitForPayment(const std::string& id, posd::v1::PaymentStatus status) {
    return waiter_.WaitUntil([&] {
      auto payment = engine_->queries().GetPayment(id);
      return payment.ok() && payment->status() == status;
    });
  }
  bool WaitForRefund(const std::string& id, posd::v1::RefundStatus status) {
    return waiter_.WaitUntil([&] {
      auto refund = engine_->queries().GetRefund(id);
      return refund.ok() && refund->status() == status;
    });
  }

  posd::testing::TempDir dir_;
  FakeDevicePort devices_;
  HookPoints* hooks_ = nullptr;
  core::SplitMix64 random_{42};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
  EventWaiter waiter_;
  int request_counter_ = 0;
};

}  // namespace posd::engine::testing
