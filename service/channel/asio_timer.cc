#include "service/channel/asio_timer.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <utility>

namespace posd::channel {
namespace {

class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(boost::asio::io_context& io) : timer_(io) {}
  ~AsioTimer() override {
    *alive_ = false;
    Cancel();
  }

  void ArmAt(TimePoint deadline, std::function<void()> fire) override {
    // A generation number, not just cancel(): a completion that was already
    // queued when we re-armed must not run the new callback early.
    const uint64_t generation = ++generation_;
    fire_ = std::move(fire);
    timer_.expires_at(deadline);
    timer_.async_wait([this, generation, alive = alive_](const boost::system::error_code& ec) {
      if (ec || !*alive || generation != generation_) return;
      std::function<void()> fire_now = std::move(fire_);
      fire_ = nullptr;
      if (fire_now) fire_now();
    });
  }

  void Cancel() override {
    ++generation_;
    fire_ = nullptr;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::function<void()> fire_;
  uint64_t generation_ = 0;
  // Cleared on destruction: the handler may outlive `this` in the queue.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  AsioTimer(const AsioTimer&) = delete;
  AsioTimer& operator=(const AsioTimer&) = delete;
};

}  // namespace

std::unique_ptr<Timer> AsioTimerFactory::CreateTimer() {
  return std::make_unique<AsioTimer>(io_);
}

}  // namespace posd::channel
