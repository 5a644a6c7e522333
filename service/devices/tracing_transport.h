// A MessageTransport decorator that reports every protocol message (whole
// envelope) crossing it as a trace entry — body type, message and
// correlation ids, transaction id, encoded size, request-to-reply latency and
// a one-line decoding — plus the transport's own events (UP, DOWN with its
// cause). Card data never appears: the protocol carries masked PANs only and
// the summary shows brand and outcome, not the PAN.
//
// Threading and lifetime: as MessageTransport: confined to the io_context
// thread. Owns the wrapped transport; the sink must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "service/channel/message_transport.h"
#include "service/devices/trace_sink.h"

namespace posd::devices {

// Told when the transport goes down, before the layer above hears of it.
using TransportDownObserver =
    std::function<void(channel::TransportDownReason reason, std::string_view detail)>;

class TracingTransport final : public channel::MessageTransport,
                               private channel::MessageTransportHandler {
 public:
  TracingTransport(std::unique_ptr<channel::MessageTransport> inner, TraceSink sink,
                   TransportDownObserver on_down);
  ~TracingTransport() override;

  void Start(channel::MessageTransportHandler* handler) override;
  absl::Status Send(std::span<const uint8_t> message) override;
  void Reset(std::string_view why) override;
  void Close() override;
  bool is_up() const override { return inner_->is_up(); }
  std::string_view description() const override { return inner_->description(); }

  channel::MessageTransport& inner() { return *inner_; }
  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t messages_received() const { return messages_received_; }

 private:
  void OnTransportUp() override;
  void OnTransportDown(channel::TransportDownReason reason, std::string_view detail) override;
  void OnMessage(std::span<const uint8_t> message) override;
  void Trace(std::span<const uint8_t> message, bool inbound);

  std::unique_ptr<channel::MessageTransport> inner_;
  TraceSink sink_;
  TransportDownObserver on_down_;
  channel::MessageTransportHandler* handler_ = nullptr;
  uint64_t messages_sent_ = 0;
  uint64_t messages_received_ = 0;
  // When each outbound message_id was sent, for reply latency (bounded).
  std::map<uint64_t, std::chrono::steady_clock::time_point> sent_at_;
};

}  // namespace posd::devices
