// The seam between the terminal application protocol (TerminalChannel,
// TerminalEndpoint) and whatever carries its messages: a serial link
// (SerialLinkTransport: LinkSession over a ByteStream) today, a WebSocket
// connection later. The layers above see whole messages and up/down events,
// never bytes, frames or sockets.
//
// Contract every implementation keeps:
//   - A transport is "up" between an OnUp and the next OnDown. Messages are
//     delivered whole, at most once and in Send order within one up period.
//   - Send is only accepted while up (FAILED_PRECONDITION otherwise). When the
//     transport goes down, every message sent before may or may not have
//     reached the peer, and none of them is delivered afterwards: nothing of
//     one up period leaks into the next. The application layer resends or
//     queries what matters (docs/protocol.md, "Exactly once").
//   - Callbacks never run inside Start, Send, Reset or Close; they run later
//     from the owner's event loop (an Asio io_context, or a test's virtual
//     loop). After Close returns, no callback runs again.
//
// Threading: a transport is confined to the thread that runs its event loop;
// every member is called there and every callback runs there. Nothing is
// locked.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace posd::channel {

// Why a transport went down, as the layers above report it to operators.
enum class TransportDownReason : uint8_t {
  kNone = 0,
  kRetriesExhausted,  // the link gave up retransmitting
  kPeerRestarted,     // the peer announced a new link session
  kLocalReset,        // the owner called Reset (e.g. heartbeats lost)
  kStreamFailed,      // the byte stream or connection closed under us
  kClosed,            // Close was called
};
std::string_view TransportDownReasonName(TransportDownReason reason);

// Receives a transport's events. Implemented by TerminalChannel and
// TerminalEndpoint. Must outlive the transport's use of it (until Close).
class MessageTransportHandler {
 public:
  virtual ~MessageTransportHandler() = default;
  // The transport is up: Send is accepted from now on.
  virtual void OnTransportUp() = 0;
  // The transport went down; `detail` is a short text for logs.
  virtual void OnTransportDown(TransportDownReason reason, std::string_view detail) = 0;
  // One whole message from the peer. The span is valid during the call only.
  virtual void OnMessage(std::span<const uint8_t> message) = 0;
};

class MessageTransport {
 public:
  virtual ~MessageTransport() = default;

  // Installs the handler and starts connecting. Call once. `handler` must
  // stay valid until Close() or destruction.
  virtual void Start(MessageTransportHandler* handler) = 0;

  // Queues one message for the peer. FAILED_PRECONDITION while down or after
  // Close; INVALID_ARGUMENT if larger than the transport carries;
  // RESOURCE_EXHAUSTED when its send queue is full (retry later).
  virtual absl::Status Send(std::span<const uint8_t> message) = 0;

  // Ends the current up period (OnDown(kLocalReset) follows if it was up)
  // and connects again. Used when the layer above decides the peer is gone
  // although the transport did not notice (heartbeats lost, handshake
  // timeout).
  virtual void Reset(std::string_view why) = 0;

  // Stops for good; no callback runs afterwards. Idempotent.
  virtual void Close() = 0;

  virtual bool is_up() const = 0;

  // Names the peer for logs, e.g. "serial /dev/ttyUSB0".
  virtual std::string_view description() const = 0;
};

}  // namespace posd::channel
