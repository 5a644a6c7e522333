#include "service/http/grpc_web_framing.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::http {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

std::string Frame(uint8_t flags, std::string_view payload) {
  std::string out;
  out.push_back(static_cast<char>(flags));
  const auto n = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(payload);
  return out;
}

TEST(GrpcWebFraming, EncodesAMessageFrameWithBigEndianLength) {
  std::string out;
  AppendMessageFrame(std::string(300, 'x'), out);
  ASSERT_EQ(out.size(), 305u);
  EXPECT_EQ(out.substr(0, 5), std::string("\x00\x00\x00\x01\x2c", 5));
}

TEST(GrpcWebFraming, TrailerFrameHasFlag0x80AndCrLfLines) {
  std::string out;
  AppendTrailerFrame({{"grpc-status", "0"}, {"grpc-message", "ok"}}, out);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x80);
  EXPECT_EQ(out.substr(5), "grpc-status: 0\r\ngrpc-message: ok\r\n");
  auto parsed = ParseTrailerBlock(out.substr(5));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_THAT(*parsed, ElementsAre(Pair("grpc-status", "0"), Pair("grpc-message", "ok")));
}

TEST(GrpcWebFraming, TrailerKeysAreLowerCasedAndValuesTrimmed) {
  auto parsed = ParseTrailerBlock("Grpc-Status:  5 \r\nX-Extra: a:b\r\n");
  ASSERT_THAT(parsed, IsOk());
  EXPECT_THAT(*parsed, ElementsAre(Pair("grpc-status", "5"), Pair("x-extra", "a:b")));
  EXPECT_THAT(ParseTrailerBlock("no colon here\r\n"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(GrpcWebFraming, DecoderFindsFramesWhateverTheChunking) {
  const std::string stream = Frame(0, "first") + Frame(0, "") + Frame(0x80, "grpc-status: 0\r\n");
  for (std::size_t step = 1; step <= stream.size(); ++step) {
    GrpcWebFrameDecoder decoder(1024);
    std::vector<GrpcWebFrame> frames;
    for (std::size_t i = 0; i < stream.size(); i += step) {
      ASSERT_THAT(decoder.Feed(std::string_view(stream).substr(i, step), frames), IsOk());
    }
    EXPECT_THAT(decoder.Finish(), IsOk());
    ASSERT_EQ(frames.size(), 3u) << "step " << step;
    EXPECT_EQ(frames[0].payload, "first");
    EXPECT_FALSE(frames[0].trailers);
    EXPECT_EQ(frames[1].payload, "");
    EXPECT_TRUE(frames[2].trailers);
  }
}

TEST(GrpcWebFraming, TruncatedFrameIsInvalidAtFinish) {
  GrpcWebFrameDecoder decoder(1024);
  std::vector<GrpcWebFrame> frames;
  ASSERT_THAT(decoder.Feed(Frame(0, "hello").substr(0, 7), frames), IsOk());
  EXPECT_TRUE(frames.empty());
  EXPECT_THAT(decoder.Finish(), StatusIs(absl::StatusCode::kInvalidArgument));
  GrpcWebFrameDecoder header_only(1024);
  ASSERT_THAT(header_only.Feed(std::string("\x00\x00", 2), frames), IsOk());
  EXPECT_THAT(header_only.Finish(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(GrpcWebFraming, OversizedFrameIsRefusedBeforeItsPayloadArrives) {
  GrpcWebFrameDecoder decoder(100);
  std::vector<GrpcWebFrame> frames;
  // Only the header of a 4 GiB frame: refused at once, nothing buffered.
  EXPECT_THAT(decoder.Feed(std::string("\x00\xff\xff\xff\xff", 5), frames),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(decoder.buffered(), 0u);
  // Failed for good: later bytes are not framed.
  EXPECT_THAT(decoder.Feed(Frame(0, "x"), frames), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(frames.empty());
}

TEST(GrpcWebFraming, CompressedAndUnknownFlagsAreRefused) {
  std::vector<GrpcWebFrame> frames;
  GrpcWebFrameDecoder compressed(100);
  EXPECT_THAT(compressed.Feed(Frame(0x01, "zz"), frames), StatusIs(absl::StatusCode::kUnimplemented));
  GrpcWebFrameDecoder unknown(100);
  EXPECT_THAT(unknown.Feed(Frame(0x40, "zz"), frames), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(frames.empty());
}

TEST(GrpcWebFraming, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    const std::string encoded = Base64Encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    Base64StreamDecoder decoder;
    std::string decoded;
    ASSERT_THAT(decoder.Feed(encoded, decoded), IsOk());
    EXPECT_THAT(decoder.Finish(), IsOk());
    EXPECT_EQ(decoded, bytes);
    bytes.push_back(static_cast<char>(n * 37));
  }
}

TEST(GrpcWebFraming, Base64AcceptsConcatenatedPaddedSegmentsFedInPieces) {
  const std::string text = Base64Encode("a") + Base64Encode("bc") + Base64Encode("def");
  Base64StreamDecoder decoder;
  std::string decoded;
  for (char c : text) ASSERT_THAT(decoder.Feed(std::string_view(&c, 1), decoded), IsOk());
  EXPECT_THAT(decoder.Finish(), IsOk());
  EXPECT_EQ(decoded, "abcdef");
}

TEST(GrpcWebFraming, Base64RefusesBadText) {
  std::string out;
  Base64StreamDecoder bad_char;
  EXPECT_THAT(bad_char.Feed("ab$d", out), StatusIs(absl::StatusCode::kInvalidArgument));
  Base64StreamDecoder early_pad;
  EXPECT_THAT(early_pad.Feed("a===", out), StatusIs(absl::StatusCode::kInvalidArgument));
  Base64StreamDecoder data_after_pad;
  EXPECT_THAT(data_after_pad.Feed("ab=c", out), StatusIs(absl::StatusCode::kInvalidArgument));
  Base64StreamDecoder partial;
  ASSERT_THAT(partial.Feed("abc", out), IsOk());
  EXPECT_THAT(partial.Finish(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(GrpcWebFraming, GrpcTimeoutUnits) {
  using namespace std::chrono;
  EXPECT_EQ(*ParseGrpcTimeout("1H"), hours(1));
  EXPECT_EQ(*ParseGrpcTimeout("2M"), minutes(2));
  EXPECT_EQ(*ParseGrpcTimeout("3S"), seconds(3));
  EXPECT_EQ(*ParseGrpcTimeout("250m"), milliseconds(250));
  EXPECT_EQ(*ParseGrpcTimeout("7u"), microseconds(7));
  EXPECT_EQ(*ParseGrpcTimeout("99999999n"), nanoseconds(99999999));
  for (const char* bad : {"", "S", "10", "10x", "-1S", "123456789S", "1.5S", " 1S"}) {
    EXPECT_THAT(ParseGrpcTimeout(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(GrpcWebFraming, GrpcMessagePercentEncodingRoundTrips) {
  const std::string message = "bad: 100% \xc3\xa9t\xc3\xa9\r\nnext";
  const std::string encoded = PercentEncodeGrpcMessage(message);
  EXPECT_EQ(encoded.find('\r'), std::string::npos);
  EXPECT_EQ(encoded.find('\n'), std::string::npos);
  EXPECT_NE(encoded.find("100%25"), std::string::npos);
  EXPECT_EQ(PercentDecodeGrpcMessage(encoded), message);
}

}  // namespace
}  // namespace posd::http
