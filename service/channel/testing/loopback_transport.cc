#include "service/channel/testing/loopback_transport.h"

#include "absl/status/status.h"

namespace posd::channel::testing {

class LoopbackPair::End final : public MessageTransport {
 public:
  End(LoopbackPair& pair, Side side) : pair_(pair), side_(side) {}

  // Also restarts an end after Close, so a test can boot a new endpoint
  // (a power-cycled terminal) on the same end.
  void Start(MessageTransportHandler* handler) override {
    handler_ = handler;
    closed_ = false;
    if (pair_.connected_) ReportUp();
  }
  absl::Status Send(std::span<const uint8_t> message) override {
    if (closed_ || !up_) return absl::FailedPreconditionError("loopback: down");
    ++pair_.sent_[side_];
    pair_.Deliver(side_, std::vector<uint8_t>(message.begin(), message.end()));
    return absl::OkStatus();
  }
  void Reset(std::string_view) override {
    if (closed_) return;
    ++pair_.resets_;
    pair_.Disconnect(TransportDownReason::kLocalReset);
    if (pair_.reconnect_after_reset) {
      pair_.loop_.ScheduleAt(pair_.loop_.now() + pair_.reconnect_delay,
                             [&pair = pair_] { pair.Connect(); });
    }
  }
  void Close() override {
    closed_ = true;
    up_ = false;
    handler_ = nullptr;
  }
  bool is_up() const override { return up_ && !closed_; }
  std::string_view description() const override { return "loopback"; }

  void ReportUp() {
    if (closed_ || handler_ == nullptr || up_) return;
    up_ = true;
    const uint64_t generation = pair_.generation_;
    pair_.loop_.Post([this, generation] {
      if (handler_ != nullptr && generation == pair_.generation_ && up_) handler_->OnTransportUp();
    });
  }
  void ReportDown(TransportDownReason reason) {
    if (!up_) return;
    up_ = false;
    pair_.loop_.Post([this, reason] {
      if (handler_ != nullptr) handler_->OnTransportDown(reason, "loopback");
    });
  }
  void Receive(std::vector<uint8_t> message) {
    if (handler_ != nullptr && up_) handler_->OnMessage(message);
  }

 private:
  LoopbackPair& pair_;
  Side side_;
  MessageTransportHandler* handler_ = nullptr;
  bool up_ = false;
  bool closed_ = false;
};

LoopbackPair::LoopbackPair(VirtualLoop& loop, Duration latency) : loop_(loop), latency_(latency) {
  ends_[kController] = std::make_unique<End>(*this, kController);
  ends_[kTerminal] = std::make_unique<End>(*this, kTerminal);
}

LoopbackPair::~LoopbackPair() = default;

MessageTransport& LoopbackPair::end(Side side) { return *ends_[side]; }

void LoopbackPair::Connect() {
  if (connected_) return;
  connected_ = true;
  ++generation_;
  for (auto& end : ends_) end->ReportUp();
}

void LoopbackPair::Disconnect(TransportDownReason reason) {
  if (!connected_) return;
  connected_ = false;
  ++generation_;  // messages on the way are lost
  for (auto& end : ends_) end->ReportDown(reason);
}

void LoopbackPair::Deliver(Side from, std::vector<uint8_t> message) {
  if (drop && drop(from, message)) return;
  const Side to = from == kController ? kTerminal : kController;
  const uint64_t generation = generation_;
  loop_.ScheduleAt(loop_.now() + latency_,
                   [this, to, generation, message = std::move(message)]() mutable {
                     if (generation != generation_) return;
                     ends_[to]->Receive(std::move(message));
                   });
}

}  // namespace posd::channel::testing
