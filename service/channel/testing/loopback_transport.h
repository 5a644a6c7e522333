// Two MessageTransports joined in memory on a VirtualLoop: what one end sends
// the other receives after `latency`, in order, keeping the contract of
// message_transport.h (nothing crosses from one up period into the next).
// Tests connect and disconnect the pair, drop chosen messages, and see every
// Reset as a disconnect followed by a reconnect after `reconnect_delay`.
//
// Not thread-safe; the loop must outlive the pair.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "service/channel/message_transport.h"
#include "service/channel/testing/virtual_loop.h"

namespace posd::channel::testing {

class LoopbackPair {
 public:
  enum Side { kController = 0, kTerminal = 1 };

  explicit LoopbackPair(VirtualLoop& loop, Duration latency = std::chrono::milliseconds(5));
  ~LoopbackPair();

  MessageTransport& end(Side side);
  MessageTransport& controller() { return end(kController); }
  MessageTransport& terminal() { return end(kTerminal); }

  // Both ends come up (once both are started) / go down with `reason`.
  void Connect();
  void Disconnect(TransportDownReason reason = TransportDownReason::kStreamFailed);
  bool connected() const { return connected_; }

  // Messages for which this returns true are silently lost.
  std::function<bool(Side from, std::span<const uint8_t> message)> drop;
  // A Reset on either end reconnects after this; if unset, it stays down.
  bool reconnect_after_reset = true;
  Duration reconnect_delay = std::chrono::milliseconds(100);

  uint64_t sent(Side side) const { return sent_[side]; }
  uint64_t resets() const { return resets_; }

 private:
  class End;
  friend class End;
  void Deliver(Side from, std::vector<uint8_t> message);

  VirtualLoop& loop_;
  Duration latency_;
  std::array<std::unique_ptr<End>, 2> ends_;
  bool connected_ = false;
  uint64_t generation_ = 0;
  std::array<uint64_t, 2> sent_{};
  uint64_t resets_ = 0;
};

}  // namespace posd::channel::testing
