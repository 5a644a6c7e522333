#include "service/termsim/relocatable_transport.h"

#include <spdlog/spdlog.h>

namespace posd::termsim {

RelocatableTransport::RelocatableTransport(std::unique_ptr<channel::MessageTransport> current)
    : current_(std::move(current)) {}

RelocatableTransport::~RelocatableTransport() { Close(); }

void RelocatableTransport::MoveTo(std::unique_ptr<channel::MessageTransport> next) {
  const bool was_up = current_->is_up();
  // Close aborts the connection: the controller sees the link break.
  current_->Close();
  current_ = std::move(next);
  if (closed_) {
    current_->Close();
    return;
  }
  if (handler_ != nullptr) {
    current_->Start(this);
    if (was_up) {
      handler_->OnTransportDown(channel::TransportDownReason::kStreamFailed,
                                "moved to another address");
    }
  }
}

void RelocatableTransport::Start(channel::MessageTransportHandler* handler) {
  if (handler_ != nullptr || handler == nullptr) return;
  handler_ = handler;
  current_->Start(this);
}

absl::Status RelocatableTransport::Send(std::span<const uint8_t> message) {
  return current_->Send(message);
}

void RelocatableTransport::Reset(std::string_view why) { current_->Reset(why); }

void RelocatableTransport::Close() {
  if (closed_) return;
  closed_ = true;
  current_->Close();
}

bool RelocatableTransport::is_up() const { return !closed_ && current_->is_up(); }

void RelocatableTransport::OnTransportUp() {
  if (!closed_ && handler_ != nullptr) handler_->OnTransportUp();
}

void RelocatableTransport::OnTransportDown(channel::TransportDownReason reason,
                                           std::string_view detail) {
  if (!closed_ && handler_ != nullptr) handler_->OnTransportDown(reason, detail);
}

void RelocatableTransport::OnMessage(std::span<const uint8_t> message) {
  if (!closed_ && handler_ != nullptr) handler_->OnMessage(message);
}

}  // namespace posd::termsim
