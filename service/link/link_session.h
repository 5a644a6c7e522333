// The link's ARQ state machine: one end of a serial link session.
//
// Pure: no I/O, no clock, no randomness of its own. The owner feeds received
// bytes (in chunks of any size) and the current time, calls OnTimer at
// NextDeadline(), and after every call drains TakeActions(): bytes to write,
// whole messages delivered in order, acknowledgements and link events.
//
// Guarantees (docs/protocol.md, "Goals and what the link guarantees"): within one session
// (a pair of epochs) every message is delivered once, whole and in Send order.
// When a session ends (retries exhausted, the peer restarted, Restart()), the
// Down event lists the messages that were transmitted but not acknowledged:
// each was delivered at most once, and only the layer above can tell. Messages
// not yet transmitted stay queued for the next session. Frames of an old
// session are never accepted.
//
// Not thread-safe: one owner (for example an Asio strand) drives it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "service/link/frame.h"
#include "service/link/link_config.h"
#include "service/link/link_stats.h"

namespace posd::link {

// Identifies a message given to Send, unique within one LinkSession.
using MessageId = uint64_t;

// Returns a fresh random 32-bit epoch. Zero is reserved ("unknown") and is
// never used: the session draws again.
using EpochSource = std::function<uint32_t()>;
// Epochs from std::random_device, for production.
EpochSource RandomEpochSource();

enum class LinkState : uint8_t {
  kConnecting,  // sending HELLO, waiting for the peer
  kUp,          // session established: DATA flows
};

struct LinkEvent {
  enum class Kind : uint8_t {
    kUp,               // a session started; epochs set
    kDown,             // a session ended; reason and unconfirmed set
    kMessageRejected,  // message larger than the peer accepts; message set
  };
  Kind kind = Kind::kUp;
  LinkDownReason reason = LinkDownReason::kNone;
  uint32_t local_epoch = 0;
  uint32_t peer_epoch = 0;
  // kDown: transmitted, not acknowledged, and removed from the queue, in Send
  // order. The layer above resends or queries them.
  std::vector<MessageId> unconfirmed;
  MessageId message = 0;
};

struct LinkActions {
  std::vector<uint8_t> bytes_to_send;
  std::vector<std::vector<uint8_t>> delivered;  // whole messages, in order
  std::vector<MessageId> acked;  // confirmed delivered to the peer, in order
  std::vector<LinkEvent> events;

  bool empty() const {
    return bytes_to_send.empty() && delivered.empty() && acked.empty() && events.empty();
  }
};

class LinkSession {
 public:
  // INVALID_ARGUMENT if the config is invalid or `epochs` is empty. The first
  // HELLO is ready in TakeActions() right away.
  static absl::StatusOr<std::unique_ptr<LinkSession>> Create(const LinkConfig& config,
                                                             EpochSource epochs, TimePoint now);

  LinkSession(const LinkSession&) = delete;
  LinkSession& operator=(const LinkSession&) = delete;

  // Queues a message (0 .. max_message_size bytes). INVALID_ARGUMENT above the
  // maximum; RESOURCE_EXHAUSTED when send_queue_limit messages are pending
  // (apply backpressure and retry after acks or a Down event). Accepted while
  // connecting: sent once the link is up.
  absl::StatusOr<MessageId> Send(std::span<const uint8_t> message, TimePoint now);

  // Bytes read from the line, in any chunking.
  void OnBytesReceived(std::span<const uint8_t> bytes, TimePoint now);

  // Call at (or after) NextDeadline(); harmless at any other time.
  void OnTimer(TimePoint now);

  // When OnTimer must next run; nullopt when nothing is pending.
  std::optional<TimePoint> NextDeadline() const;

  // Ends the current session as if the peer had gone: new local epoch,
  // Down(kLocalReset) with the unconfirmed messages, then HELLO.
  void Restart(TimePoint now);

  // Everything produced since the last call.
  LinkActions TakeActions();

  LinkState state() const { return state_; }
  uint32_t local_epoch() const { return local_epoch_; }
  uint32_t peer_epoch() const { return peer_epoch_; }
  const LinkStats& stats() const { return stats_; }
  const LinkTiming& timing() const { return timing_; }
  // Messages accepted by Send and neither acknowledged nor handed back.
  size_t pending_messages() const { return queue_.size(); }

 private:
  struct OutMessage {
    MessageId id = 0;
    std::vector<uint8_t> bytes;
    size_t next_offset = 0;  // first byte not yet put in a frame
    bool last_sent = false;  // the final fragment has been transmitted
  };
  struct InFlight {
    uint8_t seq = 0;
    bool more = false;
    std::vector<uint8_t> payload;
    TimePoint tx_end;  // estimated time its last byte leaves the line
    uint32_t retries = 0;
  };
  struct RxSlot {
    bool present = false;
    bool more = false;
    std::vector<uint8_t> payload;
  };

  LinkSession(const LinkConfig& config, EpochSource epochs, TimePoint now);

  uint32_t NewEpoch();
  void HandleFrame(Frame& frame, TimePoint now);
  void HandleBadBlock(const absl::Status& status, TimePoint now);
  void HandleHello(const Frame& frame, TimePoint now);
  void HandleHelloAck(const Frame& frame, TimePoint now);
  void HandleAck(uint8_t ack, bool nak, TimePoint now);
  void HandleData(Frame& frame, TimePoint now);
  void AcceptFragment(bool more, std::vector<uint8_t>& payload);
  void AdoptPeer(uint32_t epoch, const HelloParams& params, TimePoint now);
  void GoUp(TimePoint now);
  bool IsRetiredPeer(uint32_t epoch) const;
  void EndSession(LinkDownReason reason);
  void ResetSequenceState();
  void Pump(TimePoint now);
  void FlushAck(TimePoint now);
  void MaybeNak(TimePoint now);
  void Transmit(InFlight& frame, TimePoint now);
  void SendControl(FrameType type, TimePoint now);
  void SendHello(FrameType type, TimePoint now);
  void Emit(const FrameHeader& header, std::span<const uint8_t> payload, TimePoint now);
  bool Retransmit(InFlight& frame, bool by_nak, TimePoint now);

  const LinkConfig config_;
  const LinkTiming timing_;
  EpochSource epochs_;
  LinkState state_ = LinkState::kConnecting;
  uint32_t local_epoch_ = 0;
  uint32_t peer_epoch_ = 0;  // 0 until a HELLO or HELLO_ACK names the peer
  HelloParams peer_params_;
  // The last peer epochs replaced by newer ones. A peer never returns to an
  // old epoch, so HELLOs from these are replays and must not reopen a
  // session whose frames could then be accepted again. Retiring a fifth
  // draws a new local epoch first (AdoptPeer), so an epoch is only forgotten
  // once no frame of its sessions can match our epoch any more.
  std::array<uint32_t, 4> retired_peers_{};
  size_t retired_next_ = 0;
  uint32_t window_ = 1;         // in use: min of both ends
  uint32_t frame_payload_ = 0;  // in use: min of both ends
  MessageId next_id_ = 1;

  FrameDecoder decoder_;
  std::vector<FrameDecoder::Result> decoded_;
  TimePoint line_free_at_;  // when the last byte handed out leaves the line
  TimePoint hello_due_;

  // Sender: queue_ holds messages in Send order; those before send_cursor_
  // are fully transmitted. inflight_ holds seq next_seq_ - size .. next_seq_-1.
  std::deque<OutMessage> queue_;
  size_t send_cursor_ = 0;
  std::deque<InFlight> inflight_;
  uint8_t next_seq_ = 0;

  // Receiver: rn_ is the next seq expected; rx_ holds frames that arrived
  // ahead of it (at most window of them).
  uint8_t rn_ = 0;
  std::array<RxSlot, 256> rx_{};
  uint32_t rx_buffered_ = 0;
  std::vector<uint8_t> reassembly_;
  bool discarding_ = false;  // dropping the rest of an oversize message
  bool ack_pending_ = false;
  std::optional<uint8_t> last_nak_seq_;
  TimePoint last_nak_time_;

  LinkActions actions_;
  LinkStats stats_;
};

}  // namespace posd::link
