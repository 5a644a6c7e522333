// TracingByteStream marks an outbound DATA frame as a retransmission only
// when the same link session already sent that very frame: the device's
// retransmit counter (LinkStats.retransmits) counts those entries, so a new
// session after a peer restart, or a sequence number come round again, must
// not count.
#include "service/devices/tracing_byte_stream.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/link/frame.h"

namespace posd::devices {
namespace {

// Takes every write; the trace is all the test looks at.
class NullStream final : public transport::ByteStream {
 public:
  void Start(transport::ByteStreamHandlers) override {}
  absl::Status Write(std::vector<std::uint8_t>, transport::WriteCallback) override {
    return absl::OkStatus();
  }
  void Close() override {}
  bool is_open() const override { return true; }
  std::size_t queued_bytes() const override { return 0; }
  std::string_view description() const override { return "null"; }
};

class TracingByteStreamTest : public ::testing::Test {
 protected:
  TracingByteStreamTest()
      : stream_(std::make_unique<NullStream>(),
                [this](posd::v1::TraceEntry e) { entries_.push_back(std::move(e)); }) {}

  // Writes one DATA frame as the link would and returns its trace entry.
  const posd::v1::TraceEntry& SendData(uint32_t src, uint32_t dst, uint8_t seq, uint8_t ack,
                                       std::string_view payload, bool more = false) {
    link::FrameHeader h;
    h.type = link::FrameType::kData;
    h.flags = more ? link::kFlagMore : 0;
    h.src_epoch = src;
    h.dst_epoch = dst;
    h.seq = seq;
    h.ack = ack;
    std::vector<uint8_t> bytes;
    EXPECT_TRUE(link::AppendEncodedFrame(h, {reinterpret_cast<const uint8_t*>(payload.data()),
                                             payload.size()},
                                         bytes)
                    .ok());
    const size_t before = entries_.size();
    EXPECT_TRUE(stream_.Write(std::move(bytes)).ok());
    EXPECT_EQ(entries_.size(), before + 1);
    return entries_.back();
  }

  int Retransmissions() const {
    int n = 0;
    for (const auto& e : entries_) n += e.retries() > 0 ? 1 : 0;
    return n;
  }

  std::vector<posd::v1::TraceEntry> entries_;
  TracingByteStream stream_;
};

TEST_F(TracingByteStreamTest, TheSameFrameSentAgainIsARetransmission) {
  EXPECT_EQ(SendData(0xA1, 0xB1, 0, 0, "sale").retries(), 0u);
  // Resent with a refreshed ack: the same frame.
  const posd::v1::TraceEntry& again = SendData(0xA1, 0xB1, 0, 3, "sale");
  EXPECT_EQ(again.retries(), 1u);
  EXPECT_NE(again.summary().find("retransmission 1"), std::string::npos);
  EXPECT_EQ(SendData(0xA1, 0xB1, 0, 3, "sale").retries(), 2u);
  EXPECT_EQ(Retransmissions(), 2);
}

// The peer restarted: posd keeps its own epoch, and its next session numbers
// DATA from 0 again. No frame went out twice.
TEST_F(TracingByteStreamTest, ANewSessionAfterAPeerRestartIsNotARetransmission) {
  SendData(0xA1, 0xB1, 0, 0, "hello-1");
  SendData(0xA1, 0xB1, 1, 0, "heartbeat-2");
  EXPECT_EQ(SendData(0xA1, 0xB2, 0, 0, "hello-3").retries(), 0u);
  EXPECT_EQ(SendData(0xA1, 0xB2, 1, 0, "device-info-request-4").retries(), 0u);
  // Even a byte-identical message opens the new session as a new frame.
  EXPECT_EQ(SendData(0xA1, 0xB3, 0, 0, "hello-3").retries(), 0u);
  EXPECT_EQ(Retransmissions(), 0);
}

// 256 frames later a sequence number comes back with another message, and a
// fragment with other flags is another frame too.
TEST_F(TracingByteStreamTest, ASequenceNumberUsedAgainForAnotherFrameIsNew) {
  for (int i = 0; i < 256; ++i) {
    SendData(0xA1, 0xB1, static_cast<uint8_t>(i), 0, "message-" + std::to_string(i));
  }
  EXPECT_EQ(SendData(0xA1, 0xB1, 0, 0, "message-256").retries(), 0u);
  EXPECT_EQ(SendData(0xA1, 0xB1, 1, 0, "message-1", /*more=*/true).retries(), 0u);
  EXPECT_EQ(Retransmissions(), 0);
}

}  // namespace
}  // namespace posd::devices
