// Counters kept by one link end, for device traces and metrics.
//
// A plain value copied out of LinkSession::stats(); counters only grow.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace posd::link {

// Why a session left the up state.
enum class LinkDownReason : uint8_t {
  kNone = 0,
  // One frame went unacknowledged through max_retries retransmissions.
  kRetriesExhausted = 1,
  // The peer announced a new epoch (it restarted or gave up on the session).
  kPeerRestarted = 2,
  // The owner called LinkSession::Restart.
  kLocalReset = 3,
};
inline constexpr size_t kLinkDownReasonCount = 4;
std::string_view LinkDownReasonName(LinkDownReason reason);

struct LinkStats {
  // Everything written and read, garbage and control frames included.
  uint64_t frames_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t frames_received = 0;  // frames that decoded with a good CRC
  uint64_t bytes_received = 0;

  uint64_t data_frames_sent = 0;  // retransmissions included
  uint64_t data_frames_received = 0;
  uint64_t acks_sent = 0;
  uint64_t acks_received = 0;
  uint64_t naks_sent = 0;
  uint64_t naks_received = 0;
  uint64_t hellos_sent = 0;  // HELLO and HELLO_ACK
  uint64_t hellos_received = 0;

  uint64_t retransmits_timeout = 0;
  uint64_t retransmits_nak = 0;  // fast retransmits

  uint64_t crc_errors = 0;
  uint64_t framing_errors = 0;  // bad COBS, bad length, unknown version or type
  uint64_t oversize_blocks = 0;  // runs of bytes longer than any frame
  uint64_t duplicates_dropped = 0;
  uint64_t out_of_window_dropped = 0;
  uint64_t stale_epoch_dropped = 0;  // frames addressed to or from another session
  uint64_t protocol_errors = 0;  // well-formed frames that break the rules

  uint64_t messages_queued = 0;
  uint64_t messages_acked = 0;
  uint64_t messages_delivered = 0;
  uint64_t messages_unconfirmed = 0;  // handed back after a session ended
  uint64_t messages_rejected = 0;  // above the peer's max message size
  uint64_t messages_oversize_dropped = 0;  // received above our max message size

  uint64_t resyncs = 0;  // new peer epoch adopted
  // Own epoch redrawn because the memory of retired peer epochs was full.
  uint64_t epoch_rotations = 0;
  uint64_t link_ups = 0;
  uint64_t link_downs = 0;
  std::array<uint64_t, kLinkDownReasonCount> link_downs_by_reason{};
  LinkDownReason last_down_reason = LinkDownReason::kNone;
};

}  // namespace posd::link
