#include "service/link/link_session.h"

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::link {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using namespace std::chrono_literals;

// One end under test, with everything it produced so far.
struct End {
  std::unique_ptr<LinkSession> session;
  std::vector<uint8_t> outbox;  // bytes written, not yet carried
  std::vector<std::vector<uint8_t>> delivered;
  std::vector<MessageId> acked;
  std::vector<LinkEvent> events;

  void Collect() {
    LinkActions a = session->TakeActions();
    outbox.insert(outbox.end(), a.bytes_to_send.begin(), a.bytes_to_send.end());
    for (auto& m : a.delivered) delivered.push_back(std::move(m));
    acked.insert(acked.end(), a.acked.begin(), a.acked.end());
    for (auto& e : a.events) events.push_back(std::move(e));
  }
};

// Splits a byte stream into frames (each with its trailing delimiter); leading
// delimiters are dropped.
std::vector<std::vector<uint8_t>> SplitFrames(const std::vector<uint8_t>& bytes) {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint8_t> current;
  for (uint8_t b : bytes) {
    current.push_back(b);
    if (b == 0) {
      if (current.size() > 1) frames.push_back(current);
      current.clear();
    }
  }
  return frames;
}

std::vector<Frame> ParseFrames(const std::vector<uint8_t>& bytes) {
  FrameDecoder decoder;
  std::vector<FrameDecoder::Result> results;
  decoder.Feed(bytes, results);
  std::vector<Frame> frames;
  for (auto& r : results) {
    if (r.ok()) frames.push_back(*r);
  }
  return frames;
}

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

class LinkSessionTest : public ::testing::Test {
 protected:
  LinkSessionTest() {
    config_.baud = 115200;
    config_.window = 4;
  }

  std::unique_ptr<LinkSession> Make(uint32_t first_epoch) {
    auto next = std::make_shared<uint32_t>(first_epoch);
    auto s = LinkSession::Create(config_, [next] { return (*next)++; }, now_);
    EXPECT_THAT(s, IsOk());
    return *std::move(s);
  }

  void Start() {
    a_.session = Make(0xA0000001);
    b_.session = Make(0xB0000001);
    a_.Collect();
    b_.Collect();
    Exchange();
    ASSERT_EQ(a_.session->state(), LinkState::kUp);
    ASSERT_EQ(b_.session->state(), LinkState::kUp);
    a_.events.clear();
    b_.events.clear();
  }

  // Carries `from`'s outbox to `to`, through `filter` (which may drop or
  // change frames; it sees one frame at a time).
  void Carry(End& from, End& to,
             const std::function<bool(std::vector<uint8_t>&)>& filter = {}) {
    std::vector<uint8_t> bytes = std::move(from.outbox);
    from.outbox.clear();
    if (bytes.empty()) return;
    std::vector<uint8_t> wire;
    if (filter) {
      for (auto& frame : SplitFrames(bytes)) {
        if (filter(frame)) wire.insert(wire.end(), frame.begin(), frame.end());
      }
    } else {
      wire = std::move(bytes);
    }
    now_ += 1ms;
    to.session->OnBytesReceived(wire, now_);
    to.Collect();
  }

  // Carries in both directions until neither end has anything to say.
  void Exchange() {
    for (int i = 0; i < 100 && (!a_.outbox.empty() || !b_.outbox.empty()); ++i) {
      Carry(a_, b_);
      Carry(b_, a_);
    }
  }

  void AdvanceTo(End& end, TimePoint t) {
    now_ = std::max(now_, t);
    end.session->OnTimer(now_);
    end.Collect();
  }

  // Fires `end`'s timer once.
  void FireTimer(End& end) {
    auto deadline = end.session->NextDeadline();
    ASSERT_TRUE(deadline.has_value());
    AdvanceTo(end, *deadline);
  }

  LinkConfig config_;
  TimePoint now_{};
  End a_, b_;
};

TEST_F(LinkSessionTest, CreateRejectsBadConfig) {
  LinkConfig bad = config_;
  bad.window = 0;
  EXPECT_THAT(LinkSession::Create(bad, [] { return 1u; }, now_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  bad = config_;
  bad.max_frame_payload = kMaxFramePayloadLimit + 1;
  EXPECT_THAT(LinkSession::Create(bad, [] { return 1u; }, now_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  bad = config_;
  bad.window = 128;
  EXPECT_THAT(LinkSession::Create(bad, [] { return 1u; }, now_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LinkSession::Create(config_, EpochSource{}, now_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LinkSessionTest, HandshakeExchangesEpochs) {
  a_.session = Make(0xA0000001);
  b_.session = Make(0xB0000001);
  a_.Collect();
  b_.Collect();
  std::vector<Frame> hello = ParseFrames(a_.outbox);
  ASSERT_THAT(hello, SizeIs(1));
  EXPECT_EQ(hello[0].header.type, FrameType::kHello);
  EXPECT_EQ(hello[0].header.src_epoch, 0xA0000001u);
  EXPECT_EQ(hello[0].header.dst_epoch, 0u);
  Exchange();
  EXPECT_EQ(a_.session->state(), LinkState::kUp);
  EXPECT_EQ(b_.session->state(), LinkState::kUp);
  EXPECT_EQ(a_.session->peer_epoch(), 0xB0000001u);
  EXPECT_EQ(b_.session->peer_epoch(), 0xA0000001u);
  ASSERT_THAT(a_.events, SizeIs(1));
  EXPECT_EQ(a_.events[0].kind, LinkEvent::Kind::kUp);
  EXPECT_EQ(a_.events[0].peer_epoch, 0xB0000001u);
}

TEST_F(LinkSessionTest, HandshakeSurvivesLostHelloAck) {
  a_.session = Make(0xA0000001);
  b_.session = Make(0xB0000001);
  a_.Collect();
  b_.Collect();
  Carry(a_, b_);                                         // A's HELLO reaches B
  Carry(b_, a_, [](std::vector<uint8_t>&) { return false; });  // B's HELLO and HELLO_ACK lost
  EXPECT_EQ(a_.session->state(), LinkState::kConnecting);
  FireTimer(a_);  // A repeats HELLO
  Exchange();
  EXPECT_EQ(a_.session->state(), LinkState::kUp);
  EXPECT_EQ(b_.session->state(), LinkState::kUp);
}

TEST_F(LinkSessionTest, DeliversInOrderAndReportsAcks) {
  Start();
  std::vector<MessageId> ids;
  for (uint8_t i = 0; i < 3; ++i) {
    auto id = a_.session->Send(Bytes(10 + i, i), now_);
    ASSERT_THAT(id, IsOk());
    ids.push_back(*id);
  }
  a_.Collect();
  Exchange();
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(10, 0), Bytes(11, 1), Bytes(12, 2)));
  EXPECT_EQ(a_.acked, ids);
  EXPECT_EQ(a_.session->pending_messages(), 0u);
  EXPECT_EQ(b_.session->stats().messages_delivered, 3u);
}

TEST_F(LinkSessionTest, EmptyAndMaximumMessages) {
  Start();
  ASSERT_THAT(a_.session->Send({}, now_), IsOk());
  ASSERT_THAT(a_.session->Send(Bytes(config_.max_message_size, 3), now_), IsOk());
  a_.Collect();
  for (int i = 0; i < 40 && a_.session->pending_messages() > 0; ++i) {
    Exchange();
    if (a_.session->NextDeadline()) FireTimer(a_);
  }
  EXPECT_THAT(b_.delivered, ElementsAre(std::vector<uint8_t>{}, Bytes(config_.max_message_size, 3)));
  EXPECT_EQ(a_.session->stats().data_frames_sent, 1u + 4096u / 256u);
}

TEST_F(LinkSessionTest, SendRejectsOversizeMessage) {
  Start();
  EXPECT_THAT(a_.session->Send(Bytes(config_.max_message_size + 1, 0), now_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LinkSessionTest, SendQueueIsBounded) {
  config_.send_queue_limit = 3;
  Start();
  for (int i = 0; i < 3; ++i) ASSERT_THAT(a_.session->Send(Bytes(5, 0), now_), IsOk());
  EXPECT_THAT(a_.session->Send(Bytes(5, 0), now_), StatusIs(absl::StatusCode::kResourceExhausted));
  a_.Collect();
  Exchange();
  EXPECT_THAT(a_.session->Send(Bytes(5, 0), now_), IsOk());
}

TEST_F(LinkSessionTest, WindowLimitsFramesInFlight) {
  config_.baud = 4'000'000;  // fast line: pacing does not hold frames back
  Start();
  for (int i = 0; i < 10; ++i) ASSERT_THAT(a_.session->Send(Bytes(20, 0), now_), IsOk());
  a_.Collect();
  std::vector<Frame> frames = ParseFrames(a_.outbox);
  ASSERT_THAT(frames, SizeIs(4));
  for (uint8_t i = 0; i < 4; ++i) EXPECT_EQ(frames[i].header.seq, i);
  Exchange();
  EXPECT_THAT(b_.delivered, SizeIs(10));
}

TEST_F(LinkSessionTest, PacingKeepsTransportShallow) {
  config_.window = 8;
  config_.baud = 9600;
  Start();
  now_ += 1s;  // the handshake frames have left the line
  for (int i = 0; i < 8; ++i) ASSERT_THAT(a_.session->Send(Bytes(200, 0), now_), IsOk());
  a_.Collect();
  // Only as much as the line sends within about a frame time is handed out.
  EXPECT_THAT(ParseFrames(a_.outbox), SizeIs(2));
  auto deadline = a_.session->NextDeadline();
  ASSERT_TRUE(deadline.has_value());
  EXPECT_GT(*deadline, now_);
}

TEST_F(LinkSessionTest, CorruptFrameIsNakedAndFastRetransmitted) {
  Start();
  ASSERT_THAT(a_.session->Send(Bytes(50, 1), now_), IsOk());
  a_.Collect();
  Carry(a_, b_, [](std::vector<uint8_t>& frame) {
    frame[10] ^= 0x01;
    return true;
  });
  EXPECT_EQ(b_.session->stats().crc_errors, 1u);
  std::vector<Frame> reply = ParseFrames(b_.outbox);
  ASSERT_THAT(reply, SizeIs(1));
  EXPECT_EQ(reply[0].header.type, FrameType::kNak);
  EXPECT_EQ(reply[0].header.ack, 0);
  now_ += 10ms;  // the first copy has left the line
  Carry(b_, a_);
  EXPECT_EQ(a_.session->stats().retransmits_nak, 1u);
  Exchange();
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(50, 1)));
}

TEST_F(LinkSessionTest, GapIsNakedAndRepairedSelectively) {
  config_.baud = 4'000'000;
  Start();
  for (int i = 0; i < 4; ++i) ASSERT_THAT(a_.session->Send(Bytes(30, i), now_), IsOk());
  a_.Collect();
  int n = 0;
  Carry(a_, b_, [&n](std::vector<uint8_t>&) { return n++ != 1; });  // frame 1 lost
  std::vector<Frame> reply = ParseFrames(b_.outbox);
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply.back().header.type, FrameType::kNak);
  EXPECT_EQ(reply.back().header.ack, 1);
  EXPECT_EQ(b_.session->stats().naks_sent, 1u);  // one NAK for the gap, not one per frame
  Carry(b_, a_);
  EXPECT_EQ(a_.session->stats().retransmits_nak, 1u);
  std::vector<Frame> resent = ParseFrames(a_.outbox);
  ASSERT_THAT(resent, SizeIs(1));
  EXPECT_EQ(resent[0].header.seq, 1);
  Exchange();
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(30, 0), Bytes(30, 1), Bytes(30, 2), Bytes(30, 3)));
  EXPECT_EQ(a_.session->stats().data_frames_sent, 5u);
}

TEST_F(LinkSessionTest, RetransmitsOnTimeout) {
  Start();
  ASSERT_THAT(a_.session->Send(Bytes(40, 9), now_), IsOk());
  a_.Collect();
  Carry(a_, b_, [](std::vector<uint8_t>&) { return false; });
  auto deadline = a_.session->NextDeadline();
  ASSERT_TRUE(deadline.has_value());
  AdvanceTo(a_, *deadline - 1ms);
  EXPECT_EQ(a_.session->stats().retransmits_timeout, 0u);
  AdvanceTo(a_, *deadline);
  EXPECT_EQ(a_.session->stats().retransmits_timeout, 1u);
  Exchange();
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(40, 9)));
}

TEST_F(LinkSessionTest, LostAckCausesDuplicateThatIsDropped) {
  Start();
  auto id = a_.session->Send(Bytes(40, 9), now_);
  ASSERT_THAT(id, IsOk());
  a_.Collect();
  Carry(a_, b_);
  Carry(b_, a_, [](std::vector<uint8_t>&) { return false; });  // ACK lost
  FireTimer(a_);
  Exchange();
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(40, 9)));
  EXPECT_EQ(b_.session->stats().duplicates_dropped, 1u);
  EXPECT_THAT(a_.acked, ElementsAre(*id));
}

TEST_F(LinkSessionTest, DuplicatedFrameOnTheWireIsDeliveredOnce) {
  Start();
  ASSERT_THAT(a_.session->Send(Bytes(40, 9), now_), IsOk());
  a_.Collect();
  std::vector<uint8_t> copy = a_.outbox;
  Carry(a_, b_);
  b_.session->OnBytesReceived(copy, now_);
  b_.Collect();
  Exchange();
  EXPECT_THAT(b_.delivered, SizeIs(1));
  EXPECT_EQ(b_.session->stats().duplicates_dropped, 1u);
}

TEST_F(LinkSessionTest, AckFromPreviousEpochIsIgnored) {
  Start();
  const uint32_t a_epoch = a_.session->local_epoch();
  const uint32_t b_epoch = a_.session->peer_epoch();
  ASSERT_THAT(a_.session->Send(Bytes(40, 9), now_), IsOk());
  a_.Collect();
  a_.outbox.clear();  // the DATA frame is lost
  // The peer answers with an ACK for seq 0 from an earlier session: its
  // destination is an epoch A no longer has, or its source an old B.
  for (auto [src, dst] : {std::pair{b_epoch, a_epoch - 1}, std::pair{b_epoch - 1, a_epoch}}) {
    FrameHeader h;
    h.type = FrameType::kAck;
    h.src_epoch = src;
    h.dst_epoch = dst;
    h.ack = 1;
    std::vector<uint8_t> wire;
    ASSERT_THAT(AppendEncodedFrame(h, {}, wire), IsOk());
    a_.session->OnBytesReceived(wire, now_);
    a_.Collect();
  }
  EXPECT_EQ(a_.session->stats().stale_epoch_dropped, 2u);
  EXPECT_THAT(a_.acked, IsEmpty());
  EXPECT_EQ(a_.session->pending_messages(), 1u);
  FireTimer(a_);
  Exchange();
  EXPECT_THAT(b_.delivered, SizeIs(1));
  EXPECT_THAT(a_.acked, SizeIs(1));
}

TEST_F(LinkSessionTest, AckBeyondWhatWasSentIsIgnored) {
  Start();
  ASSERT_THAT(a_.session->Send(Bytes(4, 1), now_), IsOk());
  a_.Collect();
  a_.outbox.clear();
  FrameHeader h;
  h.type = FrameType::kAck;
  h.src_epoch = a_.session->peer_epoch();
  h.dst_epoch = a_.session->local_epoch();
  h.ack = 5;
  std::vector<uint8_t> wire;
  ASSERT_THAT(AppendEncodedFrame(h, {}, wire), IsOk());
  a_.session->OnBytesReceived(wire, now_);
  a_.Collect();
  EXPECT_THAT(a_.acked, IsEmpty());
  EXPECT_EQ(a_.session->stats().out_of_window_dropped, 1u);
}

TEST_F(LinkSessionTest, LinkDownAfterMaxRetriesWithReason) {
  config_.max_retries = 3;
  Start();
  auto id = a_.session->Send(Bytes(40, 9), now_);
  ASSERT_THAT(id, IsOk());
  ASSERT_THAT(a_.session->Send(Bytes(40, 10), now_), IsOk());
  a_.Collect();
  const uint32_t old_epoch = a_.session->local_epoch();
  for (int i = 0; i < 4; ++i) {
    a_.outbox.clear();  // the peer is gone
    FireTimer(a_);
  }
  EXPECT_EQ(a_.session->stats().retransmits_timeout, 3u);
  EXPECT_EQ(a_.session->state(), LinkState::kConnecting);
  ASSERT_THAT(a_.events, SizeIs(1));
  EXPECT_EQ(a_.events[0].kind, LinkEvent::Kind::kDown);
  EXPECT_EQ(a_.events[0].reason, LinkDownReason::kRetriesExhausted);
  EXPECT_THAT(a_.events[0].unconfirmed, SizeIs(2));
  EXPECT_EQ(a_.events[0].unconfirmed[0], *id);
  EXPECT_EQ(a_.session->stats().link_downs_by_reason[static_cast<size_t>(
                LinkDownReason::kRetriesExhausted)],
            1u);
  EXPECT_NE(a_.session->local_epoch(), old_epoch);
  std::vector<Frame> hello = ParseFrames(a_.outbox);
  ASSERT_THAT(hello, SizeIs(1));
  EXPECT_EQ(hello[0].header.type, FrameType::kHello);
  // The peer comes back: a new session starts and nothing old is accepted.
  Exchange();
  EXPECT_EQ(a_.session->state(), LinkState::kUp);
  EXPECT_EQ(b_.session->state(), LinkState::kUp);
  ASSERT_THAT(b_.events, SizeIs(2));
  EXPECT_EQ(b_.events[0].reason, LinkDownReason::kPeerRestarted);
}

TEST_F(LinkSessionTest, PeerRestartReportsUnconfirmedAndKeepsUnsent) {
  config_.baud = 9600;  // pacing holds back the later messages
  config_.window = 8;
  Start();
  now_ += 1s;
  std::vector<MessageId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(*a_.session->Send(Bytes(200, i), now_));
  a_.Collect();
  ASSERT_THAT(ParseFrames(a_.outbox), SizeIs(2));
  a_.outbox.clear();  // B loses power before they arrive
  b_.session = Make(0xB0000100);
  b_.Collect();
  Exchange();
  ASSERT_THAT(a_.events, SizeIs(2));
  EXPECT_EQ(a_.events[0].kind, LinkEvent::Kind::kDown);
  EXPECT_EQ(a_.events[0].reason, LinkDownReason::kPeerRestarted);
  EXPECT_THAT(a_.events[0].unconfirmed, ElementsAre(ids[0], ids[1]));
  EXPECT_EQ(a_.events[1].kind, LinkEvent::Kind::kUp);
  EXPECT_EQ(a_.events[1].peer_epoch, 0xB0000100u);
  for (int i = 0; i < 20 && a_.session->pending_messages() > 0; ++i) {
    if (a_.session->NextDeadline()) FireTimer(a_);
    Exchange();
  }
  // The three never sent go through in the new session; the two in doubt are
  // the layer above's to resend.
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(200, 2), Bytes(200, 3), Bytes(200, 4)));
  EXPECT_THAT(a_.acked, ElementsAre(ids[2], ids[3], ids[4]));
}

// The classic case: the last frame before a reset is delivered but its ACK is
// lost. The sender must report it as unconfirmed (delivered at most once),
// never as lost or as delivered.
TEST_F(LinkSessionTest, LostAckOfLastFrameBeforeResetIsReportedUnconfirmed) {
  Start();
  auto id = a_.session->Send(Bytes(33, 4), now_);
  ASSERT_THAT(id, IsOk());
  a_.Collect();
  Carry(a_, b_);
  EXPECT_THAT(b_.delivered, SizeIs(1));
  b_.outbox.clear();  // the ACK is lost; B restarts
  b_.session = Make(0xB0000200);
  b_.delivered.clear();
  b_.Collect();
  Exchange();
  ASSERT_FALSE(a_.events.empty());
  EXPECT_THAT(a_.events[0].unconfirmed, ElementsAre(*id));
  EXPECT_THAT(a_.acked, IsEmpty());
  EXPECT_EQ(a_.session->pending_messages(), 0u);
  EXPECT_THAT(b_.delivered, IsEmpty());
}

TEST_F(LinkSessionTest, StaleDataFromOldPeerSessionIsNotDelivered) {
  Start();
  ASSERT_THAT(a_.session->Send(Bytes(20, 1), now_), IsOk());
  a_.Collect();
  std::vector<uint8_t> old_data = a_.outbox;  // delayed copy of session-1 DATA
  a_.outbox.clear();
  a_.session = Make(0xA0000300);  // A restarts
  a_.Collect();
  Exchange();
  ASSERT_EQ(b_.session->state(), LinkState::kUp);
  b_.session->OnBytesReceived(old_data, now_);
  b_.Collect();
  EXPECT_THAT(b_.delivered, IsEmpty());
  EXPECT_EQ(b_.session->stats().stale_epoch_dropped, 1u);
}

// A path that repeats buffered data replays a HELLO and a DATA frame of a
// session more peer restarts ago than an end remembers retired epochs. The
// end drew a new epoch of its own when its memory filled, so the old DATA
// (addressed to the old epoch) is stale even though the old HELLO is no
// longer recognised: the message is not delivered a second time.
TEST_F(LinkSessionTest, ReplayOfASessionOlderThanTheRetiredMemoryIsNotDelivered) {
  Start();
  const std::vector<uint8_t> old_hello = [&] {
    a_.session->Restart(now_);  // A announces a fresh epoch: its HELLO is kept
    a_.Collect();
    std::vector<uint8_t> hello = a_.outbox;
    Exchange();
    return hello;
  }();
  ASSERT_EQ(b_.session->state(), LinkState::kUp);
  ASSERT_THAT(a_.session->Send(Bytes(20, 9), now_), IsOk());
  a_.Collect();
  const std::vector<uint8_t> old_data = a_.outbox;
  Exchange();
  ASSERT_THAT(b_.delivered, SizeIs(1));
  const uint32_t b_epoch = b_.session->local_epoch();
  for (int restart = 0; restart < 6; ++restart) {
    a_.session->Restart(now_);
    a_.Collect();
    Exchange();
    ASSERT_EQ(b_.session->state(), LinkState::kUp) << restart;
  }
  EXPECT_NE(b_.session->local_epoch(), b_epoch);
  EXPECT_GE(b_.session->stats().epoch_rotations, 1u);
  a_.outbox.clear();
  std::vector<uint8_t> replay = old_hello;
  replay.insert(replay.end(), old_data.begin(), old_data.end());
  now_ += 1ms;
  b_.session->OnBytesReceived(replay, now_);
  b_.Collect();
  EXPECT_THAT(b_.delivered, SizeIs(1));
  // The real peer is still there: whatever the replay disturbed, the two
  // ends find each other again and carry new messages once.
  const auto both_up = [&] {
    return a_.session->state() == LinkState::kUp && b_.session->state() == LinkState::kUp;
  };
  for (int i = 0; i < 100 && !both_up(); ++i) {
    Exchange();
    if (auto d = a_.session->NextDeadline()) AdvanceTo(a_, *d);
    if (auto d = b_.session->NextDeadline()) AdvanceTo(b_, *d);
  }
  Exchange();
  ASSERT_TRUE(both_up());
  ASSERT_THAT(a_.session->Send(Bytes(30, 3), now_), IsOk());
  a_.Collect();
  Exchange();
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(20, 9), Bytes(30, 3)));
}

TEST_F(LinkSessionTest, LocalRestart) {
  Start();
  const uint32_t old_epoch = a_.session->local_epoch();
  a_.session->Restart(now_);
  a_.Collect();
  ASSERT_THAT(a_.events, SizeIs(1));
  EXPECT_EQ(a_.events[0].reason, LinkDownReason::kLocalReset);
  EXPECT_NE(a_.session->local_epoch(), old_epoch);
  Exchange();
  EXPECT_EQ(a_.session->state(), LinkState::kUp);
  EXPECT_EQ(b_.session->state(), LinkState::kUp);
  EXPECT_EQ(b_.session->stats().resyncs, 2u);
}

// An end that forgets its peer's epoch by itself (a local reset, retries
// exhausted) has not seen the peer replace it: the peer still runs that epoch
// and answers the next HELLO from it. Counting it among the retired epochs
// would drop that HELLO_ACK for good and leave the link down, so a forgotten
// epoch is simply unknown (docs/protocol.md, "Session epochs").
TEST_F(LinkSessionTest, PeerEpochForgottenByItselfIsNotRetired) {
  config_.max_retries = 2;
  Start();
  for (int cycle = 0; cycle < 6; ++cycle) {
    const uint32_t peer = a_.session->peer_epoch();
    if (cycle % 2 == 0) {
      a_.session->Restart(now_);
      a_.Collect();
    } else {
      ASSERT_THAT(a_.session->Send(Bytes(10, 1), now_), IsOk());
      a_.Collect();
      while (a_.session->state() == LinkState::kUp) {
        a_.outbox.clear();  // nothing of A's reaches B until A gives up
        FireTimer(a_);
      }
    }
    ASSERT_EQ(a_.session->peer_epoch(), 0u) << cycle;
    Exchange();
    ASSERT_EQ(a_.session->state(), LinkState::kUp) << cycle;
    ASSERT_EQ(b_.session->state(), LinkState::kUp) << cycle;
    // B only replaces its epoch when its own memory of A's epochs is full.
    if (b_.session->local_epoch() == peer) {
      EXPECT_EQ(a_.session->peer_epoch(), peer);
    }
  }
  EXPECT_EQ(a_.session->stats().epoch_rotations, 0u);
  EXPECT_EQ(a_.session->stats().link_downs_by_reason[static_cast<size_t>(
                LinkDownReason::kRetriesExhausted)],
            3u);
  ASSERT_THAT(a_.session->Send(Bytes(12, 2), now_), IsOk());
  a_.Collect();
  Exchange();
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(12, 2)));
}

TEST_F(LinkSessionTest, MessageAbovePeerLimitIsRejected) {
  a_.session = Make(0xA0000001);
  config_.max_message_size = 100;
  b_.session = Make(0xB0000001);
  a_.Collect();
  b_.Collect();
  Exchange();
  auto big = a_.session->Send(Bytes(101, 0), now_);
  ASSERT_THAT(big, IsOk());
  ASSERT_THAT(a_.session->Send(Bytes(100, 0), now_), IsOk());
  a_.Collect();
  Exchange();
  ASSERT_THAT(a_.events, SizeIs(2));
  EXPECT_EQ(a_.events[1].kind, LinkEvent::Kind::kMessageRejected);
  EXPECT_EQ(a_.events[1].message, *big);
  EXPECT_THAT(b_.delivered, ElementsAre(Bytes(100, 0)));
}

TEST_F(LinkSessionTest, WindowIsTheSmallerOfBothEnds) {
  config_.baud = 4'000'000;
  config_.window = 16;
  a_.session = Make(0xA0000001);
  config_.window = 2;
  b_.session = Make(0xB0000001);
  a_.Collect();
  b_.Collect();
  Exchange();
  for (int i = 0; i < 6; ++i) ASSERT_THAT(a_.session->Send(Bytes(8, 0), now_), IsOk());
  a_.Collect();
  EXPECT_THAT(ParseFrames(a_.outbox), SizeIs(2));
}

TEST_F(LinkSessionTest, GarbageBeforeHelloIsSkipped) {
  a_.session = Make(0xA0000001);
  b_.session = Make(0xB0000001);
  a_.Collect();
  b_.Collect();
  std::vector<uint8_t> garbage = {'B', 'O', 'O', 'T', 0x7F, 0x13};
  a_.outbox.insert(a_.outbox.begin(), garbage.begin(), garbage.end());
  Exchange();
  EXPECT_EQ(b_.session->state(), LinkState::kUp);
}

TEST_F(LinkSessionTest, DeadlinesAreBoundedAndConnectingRepeatsHello) {
  a_.session = Make(0xA0000001);
  a_.Collect();
  a_.outbox.clear();
  for (int i = 0; i < 5; ++i) {
    FireTimer(a_);
    EXPECT_THAT(ParseFrames(a_.outbox), SizeIs(1));
    a_.outbox.clear();
  }
  EXPECT_EQ(a_.session->stats().hellos_sent, 6u);
  EXPECT_EQ(a_.session->state(), LinkState::kConnecting);
}

// Reads may split the byte stream anywhere: every split point of a burst of
// frames (ACK-carrying DATA, fragments, delimiters) gives the same result.
TEST_F(LinkSessionTest, FramesSplitAcrossReadsAtEveryOffset) {
  std::vector<uint8_t> stream;
  for (size_t split = 0;; ++split) {
    a_ = End{};
    b_ = End{};
    Start();
    ASSERT_THAT(a_.session->Send(Bytes(3, 0), now_), IsOk());
    ASSERT_THAT(a_.session->Send(Bytes(300, 1), now_), IsOk());
    ASSERT_THAT(a_.session->Send(std::vector<uint8_t>(20, 0), now_), IsOk());
    a_.Collect();
    // Pacing releases the rest as the line frees up.
    while (ParseFrames(a_.outbox).size() < 4) FireTimer(a_);
    if (stream.empty()) stream = a_.outbox;
    ASSERT_EQ(a_.outbox, stream);  // same epochs, same bytes
    if (split > stream.size()) break;
    std::span<const uint8_t> all(stream);
    b_.session->OnBytesReceived(all.first(split), now_);
    b_.session->OnBytesReceived(all.subspan(split), now_);
    b_.Collect();
    ASSERT_THAT(b_.delivered, ElementsAre(Bytes(3, 0), Bytes(300, 1), std::vector<uint8_t>(20, 0)))
        << "split at " << split;
    EXPECT_EQ(b_.session->stats().crc_errors + b_.session->stats().framing_errors, 0u);
  }
}

TEST(LinkTimingTest, DerivedFromBaud) {
  LinkConfig config;
  config.baud = 115200;
  LinkTiming t = DeriveLinkTiming(config);
  EXPECT_EQ(t.byte_time, std::chrono::nanoseconds(86805));
  EXPECT_GT(t.retransmit_timeout, 3 * t.max_frame_time);
  config.baud = 9600;
  LinkTiming slow = DeriveLinkTiming(config);
  EXPECT_GT(slow.retransmit_timeout, t.retransmit_timeout * 5);
  EXPECT_GE(slow.hello_interval, slow.retransmit_timeout);
}

}  // namespace
}  // namespace posd::link
