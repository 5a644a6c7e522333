// The simulator's terminal moving to another address while it runs (the
// `move ADDR:PORT` control command): a MessageTransport that hands the
// terminal's endpoint whichever transport currently serves it. MoveTo drops
// the current one at once — a connection that was up goes down as a lost
// link, with no close handshake, as when a terminal leaves an access point —
// and starts the next one, so the same endpoint (same session epoch, same
// ledger, same transactions in flight) is reached at the new address.
//
// Threading: confined to the io_context's thread, like the transports.
#pragma once

#include <memory>
#include <string>

#include "service/channel/message_transport.h"

namespace posd::termsim {

class RelocatableTransport final : public channel::MessageTransport,
                                   private channel::MessageTransportHandler {
 public:
  explicit RelocatableTransport(std::unique_ptr<channel::MessageTransport> current);
  ~RelocatableTransport() override;

  // Drops the current transport (OnTransportDown(kStreamFailed) when it was
  // up) and serves through `next` from now on.
  void MoveTo(std::unique_ptr<channel::MessageTransport> next);
  channel::MessageTransport& current() { return *current_; }

  void Start(channel::MessageTransportHandler* handler) override;
  absl::Status Send(std::span<const uint8_t> message) override;
  void Reset(std::string_view why) override;
  void Close() override;
  bool is_up() const override;
  std::string_view description() const override { return current_->description(); }

 private:
  void OnTransportUp() override;
  void OnTransportDown(channel::TransportDownReason reason, std::string_view detail) override;
  void OnMessage(std::span<const uint8_t> message) override;

  std::unique_ptr<channel::MessageTransport> current_;
  channel::MessageTransportHandler* handler_ = nullptr;
  bool closed_ = false;
};

}  // namespace posd::termsim
