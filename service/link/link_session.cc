#include "service/link/link_session.h"

#include <algorithm>
#include <random>
#include <utility>

namespace posd::link {

std::string_view LinkDownReasonName(LinkDownReason reason) {
  switch (reason) {
    case LinkDownReason::kNone: return "none";
    case LinkDownReason::kRetriesExhausted: return "retries_exhausted";
    case LinkDownReason::kPeerRestarted: return "peer_restarted";
    case LinkDownReason::kLocalReset: return "local_reset";
  }
  return "unknown";
}

EpochSource RandomEpochSource() {
  auto device = std::make_shared<std::random_device>();
  return [device] { return static_cast<uint32_t>((*device)()); };
}

absl::StatusOr<std::unique_ptr<LinkSession>> LinkSession::Create(const LinkConfig& config,
                                                                 EpochSource epochs,
                                                                 TimePoint now) {
  if (absl::Status s = ValidateLinkConfig(config); !s.ok()) return s;
  if (!epochs) return absl::InvalidArgumentError("link: an epoch source is required");
  return std::unique_ptr<LinkSession>(new LinkSession(config, std::move(epochs), now));
}

LinkSession::LinkSession(const LinkConfig& config, EpochSource epochs, TimePoint now)
    : config_(config), timing_(DeriveLinkTiming(config)), epochs_(std::move(epochs)),
      line_free_at_(now) {
  local_epoch_ = NewEpoch();
  SendHello(FrameType::kHello, now);
  hello_due_ = now + timing_.hello_interval;
}

uint32_t LinkSession::NewEpoch() {
  uint32_t epoch = 0;
  // A constant source would loop forever; after a few draws take anything
  // non-zero that differs from the current epoch.
  for (int i = 0; i < 16 && (epoch == 0 || epoch == local_epoch_); ++i) epoch = epochs_();
  if (epoch == 0 || epoch == local_epoch_) epoch = local_epoch_ + 1 == 0 ? 1 : local_epoch_ + 1;
  return epoch;
}

absl::StatusOr<MessageId> LinkSession::Send(std::span<const uint8_t> message, TimePoint now) {
  if (message.size() > config_.max_message_size) {
    return absl::InvalidArgumentError("link: message of " + std::to_string(message.size()) +
                                      " bytes exceeds max_message_size " +
                                      std::to_string(config_.max_message_size));
  }
  if (queue_.size() >= config_.send_queue_limit) {
    return absl::ResourceExhaustedError("link: send queue full");
  }
  OutMessage m;
  const MessageId id = m.id = next_id_++;
  m.bytes.assign(message.begin(), message.end());
  queue_.push_back(std::move(m));
  ++stats_.messages_queued;
  Pump(now);
  return id;
}

void LinkSession::OnBytesReceived(std::span<const uint8_t> bytes, TimePoint now) {
  stats_.bytes_received += bytes.size();
  decoded_.clear();
  decoder_.Feed(bytes, decoded_);
  for (FrameDecoder::Result& result : decoded_) {
    if (result.ok()) {
      ++stats_.frames_received;
      HandleFrame(*result, now);
    } else {
      HandleBadBlock(result.status(), now);
    }
  }
  decoded_.clear();
  Pump(now);
  FlushAck(now);
}

void LinkSession::OnTimer(TimePoint now) {
  if (state_ == LinkState::kConnecting) {
    if (now >= hello_due_) {
      SendHello(FrameType::kHello, now);
      hello_due_ = now + timing_.hello_interval;
    }
    return;
  }
  if (!inflight_.empty() && now >= inflight_.front().tx_end + timing_.retransmit_timeout) {
    if (!Retransmit(inflight_.front(), /*by_nak=*/false, now)) return;
  }
  Pump(now);
  FlushAck(now);
}

std::optional<TimePoint> LinkSession::NextDeadline() const {
  if (state_ == LinkState::kConnecting) return hello_due_;
  std::optional<TimePoint> deadline;
  if (!inflight_.empty()) deadline = inflight_.front().tx_end + timing_.retransmit_timeout;
  const bool can_send = send_cursor_ < queue_.size() && inflight_.size() < window_;
  if (can_send) {
    const TimePoint release = line_free_at_ - timing_.pacing_lead;
    if (!deadline || release < *deadline) deadline = release;
  }
  return deadline;
}

void LinkSession::Restart(TimePoint now) {
  if (state_ == LinkState::kUp) {
    EndSession(LinkDownReason::kLocalReset);
  } else {
    ++stats_.link_downs;
    ++stats_.link_downs_by_reason[static_cast<size_t>(LinkDownReason::kLocalReset)];
    stats_.last_down_reason = LinkDownReason::kLocalReset;
  }
  local_epoch_ = NewEpoch();
  peer_epoch_ = 0;
  ResetSequenceState();
  SendHello(FrameType::kHello, now);
  hello_due_ = now + timing_.hello_interval;
}

LinkActions LinkSession::TakeActions() { return std::exchange(actions_, LinkActions{}); }

// --- Receiving -------------------------------------------------------------

void LinkSession::HandleBadBlock(const absl::Status& status, TimePoint now) {
  if (status.code() == absl::StatusCode::kDataLoss) {
    ++stats_.crc_errors;
  } else if (status.code() == absl::StatusCode::kOutOfRange) {
    ++stats_.oversize_blocks;
  } else {
    ++stats_.framing_errors;
  }
  // Whatever the block was, the peer may be waiting for rn_: ask for it now
  // rather than after a retransmit timeout.
  if (state_ == LinkState::kUp) MaybeNak(now);
}

void LinkSession::HandleFrame(Frame& frame, TimePoint now) {
  const FrameHeader& h = frame.header;
  switch (h.type) {
    case FrameType::kHello:
      HandleHello(frame, now);
      return;
    case FrameType::kHelloAck:
      HandleHelloAck(frame, now);
      return;
    case FrameType::kData:
    case FrameType::kAck:
    case FrameType::kNak:
      break;
  }
  if (peer_epoch_ == 0 || h.src_epoch != peer_epoch_ || h.dst_epoch != local_epoch_) {
    // From or to another incarnation: a stale ACK after a reboot must never
    // acknowledge a frame of this session.
    ++stats_.stale_epoch_dropped;
    return;
  }
  // The peer only sends these once it knows both epochs: this confirms the
  // session (third step of the handshake).
  if (state_ != LinkState::kUp) GoUp(now);
  if (h.type == FrameType::kData) {
    ++stats_.data_frames_received;
  } else if (h.type == FrameType::kAck) {
    ++stats_.acks_received;
  } else {
    ++stats_.naks_received;
  }
  HandleAck(h.ack, h.type == FrameType::kNak, now);
  if (state_ == LinkState::kUp && h.type == FrameType::kData) HandleData(frame, now);
}

void LinkSession::HandleHello(const Frame& frame, TimePoint now) {
  ++stats_.hellos_received;
  absl::StatusOr<HelloParams> params = DecodeHelloParams(frame.payload);
  if (!params.ok() || frame.header.src_epoch == 0) {
    ++stats_.protocol_errors;
    return;
  }
  if (IsRetiredPeer(frame.header.src_epoch)) {
    ++stats_.stale_epoch_dropped;  // an old incarnation's HELLO, replayed
    return;
  }
  const uint32_t addressed_to = frame.header.dst_epoch;
  const bool addressed_elsewhere = addressed_to != 0 && addressed_to != local_epoch_;
  if (frame.header.src_epoch == peer_epoch_ && addressed_elsewhere) {
    // Our own peer is handshaking with an epoch of ours that is not the
    // current one: it adopted a replayed HELLO of an old session. It may
    // have retired our current epoch with it, and then nothing we send from
    // it is heard again; on a line that never repeats frames this cannot
    // happen. Start over with a new epoch, which it adopts.
    if (state_ == LinkState::kUp) EndSession(LinkDownReason::kPeerRestarted);
    local_epoch_ = NewEpoch();
    peer_epoch_ = 0;
    ResetSequenceState();
    SendHello(FrameType::kHello, now);
    hello_due_ = now + timing_.hello_interval;
    return;
  }
  if (frame.header.src_epoch != peer_epoch_) AdoptPeer(frame.header.src_epoch, *params, now);
  // Always answered: our previous HELLO_ACK may have been lost. A HELLO from
  // the current peer epoch changes nothing else. A peer that names another
  // epoch of ours (we restarted since) drops a HELLO_ACK from an epoch it
  // does not know; a HELLO from us it adopts at once.
  SendHello(addressed_elsewhere ? FrameType::kHello : FrameType::kHelloAck, now);
}

void LinkSession::HandleHelloAck(const Frame& frame, TimePoint now) {
  ++stats_.hellos_received;
  const FrameHeader& h = frame.header;
  // A HELLO_ACK answers our HELLO; it may name a peer only while we know
  // none. A peer that restarted announces itself with HELLO, so a HELLO_ACK
  // from an epoch other than the known one is an old answer (it can only
  // arrive late if the path repeats or reorders frames).
  if (h.dst_epoch != local_epoch_ || h.src_epoch == 0 ||
      (peer_epoch_ != 0 && h.src_epoch != peer_epoch_) || IsRetiredPeer(h.src_epoch)) {
    ++stats_.stale_epoch_dropped;
    return;
  }
  absl::StatusOr<HelloParams> params = DecodeHelloParams(frame.payload);
  if (!params.ok()) {
    ++stats_.protocol_errors;
    return;
  }
  if (h.src_epoch != peer_epoch_) AdoptPeer(h.src_epoch, *params, now);
  if (state_ != LinkState::kUp) {
    GoUp(now);
    // Tells the peer we know its epoch, so it comes up without waiting for
    // its next HELLO.
    SendControl(FrameType::kAck, now);
  }
}

void LinkSession::HandleAck(uint8_t ack, bool nak, TimePoint now) {
  const uint8_t base = static_cast<uint8_t>(next_seq_ - inflight_.size());
  const size_t acked = static_cast<uint8_t>(ack - base);
  if (acked > inflight_.size()) {
    ++stats_.out_of_window_dropped;  // acknowledges frames never sent
    return;
  }
  for (size_t i = 0; i < acked; ++i) {
    const bool last_fragment = !inflight_.front().more;
    inflight_.pop_front();
    if (!last_fragment) continue;
    // Fragments leave in queue order, so the message finished is the front.
    actions_.acked.push_back(queue_.front().id);
    queue_.pop_front();
    --send_cursor_;
    ++stats_.messages_acked;
  }
  if (nak && !inflight_.empty()) {
    InFlight& missing = inflight_.front();
    // A NAK can only be about a copy that has fully left: an older NAK
    // arriving while the retransmission is still on the line is ignored.
    if (missing.tx_end <= now) Retransmit(missing, /*by_nak=*/true, now);
  }
}

void LinkSession::HandleData(Frame& frame, TimePoint now) {
  const FrameHeader& h = frame.header;
  if (frame.payload.size() > config_.max_frame_payload) {
    ++stats_.protocol_errors;  // above what we announced; never acknowledged
    return;
  }
  const uint8_t ahead = static_cast<uint8_t>(h.seq - rn_);
  const uint8_t behind = static_cast<uint8_t>(rn_ - h.seq);
  const bool more = (h.flags & kFlagMore) != 0;
  if (ahead >= config_.window) {
    if (behind >= 1 && behind <= config_.window) {
      // Already delivered: our ACK was lost or the frame was repeated.
      ++stats_.duplicates_dropped;
      ack_pending_ = true;
    } else {
      ++stats_.out_of_window_dropped;
    }
    return;
  }
  if (ahead > 0) {
    RxSlot& slot = rx_[h.seq];
    if (slot.present) {
      ++stats_.duplicates_dropped;
    } else {
      slot.present = true;
      slot.more = more;
      slot.payload = std::move(frame.payload);
      ++rx_buffered_;
    }
    MaybeNak(now);  // a gap: rn_ was lost or corrupted
    return;
  }
  AcceptFragment(more, frame.payload);
  ++rn_;
  while (rx_[rn_].present) {
    RxSlot& slot = rx_[rn_];
    AcceptFragment(slot.more, slot.payload);
    slot = RxSlot{};
    --rx_buffered_;
    ++rn_;
  }
  ack_pending_ = true;
  if (rx_buffered_ > 0) MaybeNak(now);  // the next gap is already known
}

void LinkSession::AcceptFragment(bool more, std::vector<uint8_t>& payload) {
  if (discarding_) {
    discarding_ = more;
    return;
  }
  if (reassembly_.size() + payload.size() > config_.max_message_size) {
    ++stats_.messages_oversize_dropped;
    reassembly_.clear();
    discarding_ = more;
    return;
  }
  reassembly_.insert(reassembly_.end(), payload.begin(), payload.end());
  if (more) return;
  actions_.delivered.push_back(std::move(reassembly_));
  reassembly_ = {};
  ++stats_.messages_delivered;
}

// --- Session changes -------------------------------------------------------

void LinkSession::AdoptPeer(uint32_t epoch, const HelloParams& params, TimePoint now) {
  if (state_ == LinkState::kUp) {
    EndSession(LinkDownReason::kPeerRestarted);
  } else if (peer_epoch_ != 0) {
    ResetSequenceState();  // a handshake in progress with an earlier peer
  }
  if (peer_epoch_ != 0) {
    if (retired_peers_[retired_next_] != 0) {
      // The memory of retired epochs is full: forgetting one would let a
      // replay of its HELLO reopen its session, and its old frames (addressed
      // to our epoch) pass the epoch check again. A new epoch of our own makes
      // every frame of the sessions we forget stale, so the memory can start
      // over.
      local_epoch_ = NewEpoch();
      retired_peers_.fill(0);
      retired_next_ = 0;
      ++stats_.epoch_rotations;
    }
    retired_peers_[retired_next_] = peer_epoch_;
    retired_next_ = (retired_next_ + 1) % retired_peers_.size();
  }
  peer_epoch_ = epoch;
  // Our HELLO_ACK (or ACK) answers right away; the next HELLO only if that
  // is lost.
  hello_due_ = now + timing_.hello_interval;
  peer_params_ = params;
  ++stats_.resyncs;
}

bool LinkSession::IsRetiredPeer(uint32_t epoch) const {
  return std::find(retired_peers_.begin(), retired_peers_.end(), epoch) != retired_peers_.end();
}

void LinkSession::GoUp(TimePoint now) {
  state_ = LinkState::kUp;
  window_ = std::min<uint32_t>(config_.window, peer_params_.window);
  frame_payload_ = std::min<uint32_t>(config_.max_frame_payload, peer_params_.max_frame_payload);
  frame_payload_ = std::min<uint32_t>(frame_payload_, kMaxFramePayloadLimit);
  ++stats_.link_ups;
  LinkEvent event;
  event.kind = LinkEvent::Kind::kUp;
  event.local_epoch = local_epoch_;
  event.peer_epoch = peer_epoch_;
  actions_.events.push_back(std::move(event));
  Pump(now);
}

void LinkSession::EndSession(LinkDownReason reason) {
  LinkEvent event;
  event.kind = LinkEvent::Kind::kDown;
  event.reason = reason;
  event.local_epoch = local_epoch_;
  event.peer_epoch = peer_epoch_;
  // Messages whose final fragment left may have been delivered: hand them
  // back. A message cut before its final fragment cannot have been (the
  // receiver delivers whole messages only), so it restarts from its first
  // byte in the next session.
  for (size_t i = 0; i < send_cursor_; ++i) event.unconfirmed.push_back(queue_[i].id);
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(send_cursor_));
  if (!queue_.empty() && !queue_.front().last_sent) queue_.front().next_offset = 0;
  send_cursor_ = 0;
  stats_.messages_unconfirmed += event.unconfirmed.size();
  ++stats_.link_downs;
  ++stats_.link_downs_by_reason[static_cast<size_t>(reason)];
  stats_.last_down_reason = reason;
  actions_.events.push_back(std::move(event));
  state_ = LinkState::kConnecting;
  ResetSequenceState();
}

void LinkSession::ResetSequenceState() {
  inflight_.clear();
  next_seq_ = 0;
  rn_ = 0;
  for (RxSlot& slot : rx_) {
    if (slot.present) slot = RxSlot{};
  }
  rx_buffered_ = 0;
  reassembly_.clear();
  discarding_ = false;
  ack_pending_ = false;
  last_nak_seq_.reset();
  if (!queue_.empty() && send_cursor_ == 0) queue_.front().next_offset = 0;
}

// --- Sending ---------------------------------------------------------------

void LinkSession::Pump(TimePoint now) {
  if (state_ != LinkState::kUp) return;
  while (send_cursor_ < queue_.size() && inflight_.size() < window_ &&
         line_free_at_ <= now + timing_.pacing_lead) {
    OutMessage& m = queue_[send_cursor_];
    if (m.next_offset == 0 && m.bytes.size() > peer_params_.max_message_size) {
      LinkEvent event;
      event.kind = LinkEvent::Kind::kMessageRejected;
      event.message = m.id;
      event.local_epoch = local_epoch_;
      event.peer_epoch = peer_epoch_;
      actions_.events.push_back(std::move(event));
      ++stats_.messages_rejected;
      queue_.erase(queue_.begin() + static_cast<ptrdiff_t>(send_cursor_));
      continue;
    }
    const size_t length = std::min<size_t>(frame_payload_, m.bytes.size() - m.next_offset);
    InFlight frame;
    frame.seq = next_seq_++;
    frame.payload.assign(m.bytes.begin() + static_cast<ptrdiff_t>(m.next_offset),
                         m.bytes.begin() + static_cast<ptrdiff_t>(m.next_offset + length));
    m.next_offset += length;
    frame.more = m.next_offset < m.bytes.size();
    if (!frame.more) {
      m.last_sent = true;
      ++send_cursor_;
    }
    inflight_.push_back(std::move(frame));
    Transmit(inflight_.back(), now);
  }
}

void LinkSession::Transmit(InFlight& frame, TimePoint now) {
  FrameHeader h;
  h.type = FrameType::kData;
  h.flags = frame.more ? kFlagMore : 0;
  h.src_epoch = local_epoch_;
  h.dst_epoch = peer_epoch_;
  h.seq = frame.seq;
  h.ack = rn_;
  ++stats_.data_frames_sent;
  Emit(h, frame.payload, now);
  frame.tx_end = line_free_at_;
}

bool LinkSession::Retransmit(InFlight& frame, bool by_nak, TimePoint now) {
  if (frame.retries >= config_.max_retries) {
    EndSession(LinkDownReason::kRetriesExhausted);
    // Our epoch changes too: whatever the peer still believes about this
    // session, nothing of it can be accepted in the next one.
    local_epoch_ = NewEpoch();
    peer_epoch_ = 0;
    SendHello(FrameType::kHello, now);
    hello_due_ = now + timing_.hello_interval;
    return false;
  }
  ++frame.retries;
  ++(by_nak ? stats_.retransmits_nak : stats_.retransmits_timeout);
  Transmit(frame, now);
  return true;
}

void LinkSession::FlushAck(TimePoint now) {
  if (ack_pending_ && state_ == LinkState::kUp) SendControl(FrameType::kAck, now);
}

void LinkSession::MaybeNak(TimePoint now) {
  if (last_nak_seq_ == rn_ && now < last_nak_time_ + timing_.nak_holdoff) return;
  last_nak_seq_ = rn_;
  last_nak_time_ = now;
  SendControl(FrameType::kNak, now);
}

void LinkSession::SendControl(FrameType type, TimePoint now) {
  FrameHeader h;
  h.type = type;
  h.src_epoch = local_epoch_;
  h.dst_epoch = peer_epoch_;
  h.ack = rn_;
  ++(type == FrameType::kNak ? stats_.naks_sent : stats_.acks_sent);
  Emit(h, {}, now);
}

void LinkSession::SendHello(FrameType type, TimePoint now) {
  FrameHeader h;
  h.type = type;
  h.src_epoch = local_epoch_;
  h.dst_epoch = peer_epoch_;
  HelloParams params;
  params.window = static_cast<uint8_t>(config_.window);
  params.max_frame_payload = static_cast<uint16_t>(config_.max_frame_payload);
  params.max_message_size = config_.max_message_size;
  const std::vector<uint8_t> payload = EncodeHelloParams(params);
  ++stats_.hellos_sent;
  Emit(h, payload, now);
}

void LinkSession::Emit(const FrameHeader& header, std::span<const uint8_t> payload,
                       TimePoint now) {
  std::vector<uint8_t>& out = actions_.bytes_to_send;
  const size_t before = out.size();
  // After an idle line a leading delimiter closes whatever garbage the peer
  // may have buffered (noise, a boot banner), so this frame is not merged
  // with it. Back to back, frames share delimiters.
  if (line_free_at_ <= now) out.push_back(kDelimiter);
  // Payloads are bounded by config validation, so encoding cannot fail.
  (void)AppendEncodedFrame(header, payload, out);
  const size_t written = out.size() - before;
  line_free_at_ = std::max(line_free_at_, now) + timing_.byte_time * static_cast<int64_t>(written);
  if (header.type == FrameType::kAck || header.type == FrameType::kNak ||
      header.type == FrameType::kData) {
    ack_pending_ = false;  // every one of these carries rn_
  }
  ++stats_.frames_sent;
  stats_.bytes_sent += written;
}

}  // namespace posd::link
