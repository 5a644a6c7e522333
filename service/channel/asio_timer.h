// Timers on a Boost.Asio io_context (steady_timer), for production use of
// TerminalChannel and TerminalEndpoint with RealClock.
//
// Threading and lifetime: see timer.h. The io_context must outlive the
// factory and every timer it created.
#pragma once

#include <memory>

#include "service/channel/timer.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::channel {

class AsioTimerFactory final : public TimerFactory {
 public:
  explicit AsioTimerFactory(boost::asio::io_context& io) : io_(io) {}
  std::unique_ptr<Timer> CreateTimer() override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace posd::channel
