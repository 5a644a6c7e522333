// posd's HTTP edge as a browser meets it: the real posd binary with
// `http.listen` on a loopback port, gRPC-Web calls, a bundle, /metrics.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "posd/v1/admin.grpc.pb.h"
#include "posd/v1/events.grpc.pb.h"
#include "posd/v1/payments.grpc.pb.h"
#include "service/common/strings.h"
#include "service/http/grpc_web_framing.h"
#include "tests/support/http_client.h"
#include "tests/support/posd_instance.h"
#include "tests/support/temp_dir.h"

namespace posd {
namespace {

namespace fs = std::filesystem;
using ::posd::testing::GrpcWebPost;
using ::posd::testing::HttpConnection;
using ::posd::testing::HttpReply;
using ::testing::HasSubstr;

struct WebReply {
  int http_status = 0;
  std::vector<std::string> messages;
  std::string grpc_status;
  std::string grpc_message;
  std::string details;
};

class PosdHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path release = dir_.path() / "bundles" / "checkout" / "releases" / "1.0.0";
    fs::create_directories(release);
    std::ofstream(release / "index.html") << "<!doctype html><title>checkout</title>";
    std::ofstream(release / "app-7HX2K9QA.js") << "console.log('till')";
    std::ofstream(dir_.path() / "outside.txt") << "private";
    fs::create_directory_symlink("releases/1.0.0", dir_.path() / "bundles" / "checkout" / "current");
    fs::create_directories(dir_.path() / "logs");
    port_ = ::posd::testing::PickFreePort();
    ::posd::testing::WritePosdConfig(
        paths_, StrCat("http:\n  listen: 127.0.0.1:", port_, "\nbundles:\n  dir: ",
                       (dir_.path() / "bundles").string(), "\n"));
    posd_.emplace(::posd::testing::StartPosd(POSD_BINARY, paths_, dir_.path() / "logs"));
    ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
    ASSERT_TRUE(::posd::testing::WaitUntil(
        [&] { return HttpConnection(port_).connected(); }, std::chrono::seconds(20)));
  }
  void TearDown() override {
    if (posd_ && posd_->Running()) {
      posd_->Signal(SIGTERM);
      EXPECT_EQ(posd_->WaitForExit(std::chrono::seconds(20)), 0) << posd_->Stderr();
    }
  }

  HttpReply Get(const std::string& path, const std::string& host = "127.0.0.1") {
    HttpConnection connection(port_);
    connection.Send(StrCat("GET ", path, " HTTP/1.1\r\nhost: ", host, "\r\n\r\n"));
    return connection.ReadReply().value_or(HttpReply{});
  }

  WebReply Web(const std::string& method, const google::protobuf::Message& request,
               const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string body;
    http::AppendMessageFrame(request.SerializeAsString(), body);
    HttpConnection connection(port_);
    connection.Send(GrpcWebPost(method, http::Base64Encode(body), "application/grpc-web-text",
                                headers));
    WebReply result;
    auto reply = connection.ReadReply();
    if (!reply) return result;
    result.http_status = reply->status;
    std::string raw;
    http::Base64StreamDecoder base64;
    EXPECT_TRUE(base64.Feed(reply->body, raw).ok());
    http::GrpcWebFrameDecoder decoder(1 << 24);
    std::vector<http::GrpcWebFrame> frames;
    EXPECT_TRUE(decoder.Feed(raw, frames).ok());
    for (const auto& frame : frames) {
      if (!frame.trailers) {
        result.messages.push_back(frame.payload);
        continue;
      }
      auto trailers = http::ParseTrailerBlock(frame.payload);
      EXPECT_TRUE(trailers.ok());
      if (!trailers.ok()) continue;
      for (const auto& [key, value] : *trailers) {
        if (key == "grpc-status") result.grpc_status = value;
        if (key == "grpc-message") result.grpc_message = http::PercentDecodeGrpcMessage(value);
        if (key == "grpc-status-details-bin") result.details = value;
      }
    }
    return result;
  }

  std::string Metrics() { return Get("/metrics").body; }

  ::posd::testing::TempDir dir_;
  ::posd::testing::PosdPaths paths_{dir_.path()};
  uint16_t port_ = 0;
  std::optional<::posd::testing::Subprocess> posd_;
};

TEST_F(PosdHttpTest, UnaryCallThroughTheBridge) {
  const WebReply reply = Web("/posd.v1.AdminService/GetServerInfo", v1::GetServerInfoRequest());
  ASSERT_EQ(reply.http_status, 200);
  EXPECT_EQ(reply.grpc_status, "0");
  ASSERT_EQ(reply.messages.size(), 1u);
  v1::ServerInfo info;
  ASSERT_TRUE(info.ParseFromString(reply.messages[0]));
  EXPECT_FALSE(info.version().empty());
}

TEST_F(PosdHttpTest, BrowserCallerIsTheUiRoleWhateverItClaims) {
  v1::RefundPaymentRequest refund;
  refund.set_request_id("refund-1");
  refund.set_payment_id("pay-1");
  const WebReply reply = Web("/posd.v1.PaymentService/RefundPayment", refund,
                             {{"authorization", "Bearer operator-token-operator-token-1234"},
                              {"posd-role", "operator"}});
  EXPECT_EQ(reply.grpc_status, "7");  // PERMISSION_DENIED
  EXPECT_THAT(reply.grpc_message, HasSubstr("ui"));
}

TEST_F(PosdHttpTest, ClosedStreamIsReleasedByPosd) {
  EXPECT_THAT(Metrics(), HasSubstr("posd_watch_events_streams_open{transport=\"grpc_web\"} 0"));
  v1::WatchEventsRequest request;
  request.set_since_sequence(0);
  std::string body;
  http::AppendMessageFrame(request.SerializeAsString(), body);
  auto stream = std::make_unique<HttpConnection>(port_);
  ASSERT_TRUE(stream->Send(GrpcWebPost("/posd.v1.EventService/WatchEvents", body)));
  auto head = stream->ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  ASSERT_TRUE(::posd::testing::WaitUntil(
      [&] { return Metrics().find("transport=\"grpc_web\"} 1") != std::string::npos; },
      std::chrono::seconds(10)));
  // A native stream is counted apart.
  auto channel = grpc::CreateChannel(paths_.address(), grpc::InsecureChannelCredentials());
  auto events = v1::EventService::NewStub(channel);
  grpc::ClientContext native_context;
  auto native = events->WatchEvents(&native_context, request);
  ASSERT_TRUE(::posd::testing::WaitUntil(
      [&] { return Metrics().find("transport=\"grpc\"} 1") != std::string::npos; },
      std::chrono::seconds(10)));
  stream.reset();  // the tab closes
  EXPECT_TRUE(::posd::testing::WaitUntil(
      [&] { return Metrics().find("transport=\"grpc_web\"} 0") != std::string::npos; },
      std::chrono::seconds(10)))
      << Metrics();
  EXPECT_THAT(Metrics(), HasSubstr("transport=\"grpc\"} 1"));
  native_context.TryCancel();
  native->Finish();
}

TEST_F(PosdHttpTest, ServesTheBundleAndNothingOutsideIt) {
  const HttpReply page = Get("/ui/checkout/");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("checkout"));
  EXPECT_EQ(page.Header("cache-control"), "no-cache");
  EXPECT_THAT(page.Header("content-security-policy"), HasSubstr("connect-src 'self'"));
  const HttpReply js = Get("/ui/checkout/app-7HX2K9QA.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("cache-control"), "public, max-age=31536000, immutable");
  HttpConnection again(port_);
  again.Send(StrCat("GET /ui/checkout/app-7HX2K9QA.js HTTP/1.1\r\nhost: 127.0.0.1\r\nif-none-match: ",
                    js.Header("etag"), "\r\n\r\n"));
  EXPECT_EQ(again.ReadReply()->status, 304);
  EXPECT_EQ(Get("/ui/checkout").status, 301);
  EXPECT_EQ(Get("/ui/checkout/../../../outside.txt").status, 400);
  EXPECT_EQ(Get("/ui/checkout/%2e%2e/%2e%2e/%2e%2e/outside.txt").status, 400);
  EXPECT_EQ(Get("/ui/checkout/%252e%252e/outside.txt").status, 400);
  EXPECT_EQ(Get("/ui/checkout/index.html%00").status, 400);
  EXPECT_EQ(Get("/ui/nothing/").status, 404);
}

TEST_F(PosdHttpTest, ForeignHostNamesAreRefused) {
  EXPECT_EQ(Get("/metrics", "attacker.example").status, 421);
  EXPECT_EQ(Get("/metrics", "localhost:1234").status, 200);
}

}  // namespace
}  // namespace posd
