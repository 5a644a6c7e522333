// The HTTP edge end to end inside one process: a real gRPC server with a fake
// EventService, the bridge on its in-process channel, the Beast listener on
// a loopback port, and raw HTTP/1.1 from the test.
#include <atomic>
#include <mutex>

#include "gmock/gmock.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "posd/v1/events.grpc.pb.h"
#include "service/http/grpc_bridge.h"
#include "service/http/grpc_web_codec.h"
#include "service/http/http_router.h"
#include "service/http/http_server.h"
#include "service/metrics/metrics.h"
#include "tests/support/http_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"

namespace posd::http {
namespace {

using ::posd::testing::HttpConnection;
using ::posd::testing::HttpReply;
using ::posd::testing::GrpcWebPost;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

// ListEvents answers by page_token: "fail" -> FAILED_PRECONDITION with
// details, "hang" -> never (until cancelled or past the deadline),
// "metadata" -> the client metadata it saw, as next_page_token; anything
// else -> page_size events. WatchEvents sends since_sequence events, then
// stays open until cancelled, counted in the metrics like posd's own.
class FakeEvents final : public posd::v1::EventService::CallbackService {
 public:
  explicit FakeEvents(metrics::Metrics& metrics) : metrics_(metrics) {}

  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const posd::v1::ListEventsRequest* request,
                                       posd::v1::ListEventsResponse* response) override {
    class Hanging : public grpc::ServerUnaryReactor {
     public:
      void OnCancel() override { Finish(grpc::Status(grpc::StatusCode::CANCELLED, "gone")); }
      void OnDone() override { delete this; }
    };
    if (request->page_token() == "hang") return new Hanging();
    auto* reactor = context->DefaultReactor();
    if (request->page_token() == "fail") {
      reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "order is paid: 100% \xc3\xa9",
                                   std::string("\x08\x09\x00\xff", 4)));
      return reactor;
    }
    if (request->page_token() == "metadata") {
      std::string seen;
      for (const auto& [key, value] : context->client_metadata()) {
        seen += std::string(key.data(), key.size()) + "=" + std::string(value.data(), value.size()) + ";";
      }
      response->set_next_page_token(seen);
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    for (int i = 1; i <= request->page_size(); ++i) response->add_events()->set_sequence(i);
    response->set_head_sequence(static_cast<uint64_t>(request->page_size()));
    context->AddInitialMetadata("x-served-by", "fake");
    context->AddTrailingMetadata("x-after", "done");
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerWriteReactor<posd::v1::Event>* WatchEvents(
      grpc::CallbackServerContext* context, const posd::v1::WatchEventsRequest* request) override {
    class Stream : public grpc::ServerWriteReactor<posd::v1::Event> {
     public:
      Stream(uint64_t count, prometheus::Gauge& gauge) : left_(count), gauge_(gauge) {
        gauge_.Increment();
        Next();
      }
      void OnWriteDone(bool ok) override {
        if (ok) Next();
      }
      void OnCancel() override { Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client left")); }
      void OnDone() override {
        gauge_.Decrement();
        delete this;
      }

     private:
      void Next() {
        if (left_ == 0) return;  // stay open
        event_.set_sequence(++sent_);
        --left_;
        StartWrite(&event_);
      }
      uint64_t left_;
      uint64_t sent_ = 0;
      prometheus::Gauge& gauge_;
      posd::v1::Event event_;
    };
    // gRPC 1.51 names an in-process peer "unknown" (posd's EventService
    // relies on it; this test would notice a change).
    const bool in_process = context->peer() == "unknown";
    {
      const std::lock_guard lock(mutex_);
      last_peer_ = context->peer();
    }
    return new Stream(request->since_sequence(),
                      metrics_.open_watch_streams(in_process ? metrics::StreamTransport::kGrpcWeb
                                                             : metrics::StreamTransport::kGrpc));
  }

  std::string last_peer() {
    const std::lock_guard lock(mutex_);
    return last_peer_;
  }

 private:
  metrics::Metrics& metrics_;
  std::mutex mutex_;
  std::string last_peer_;
};

std::string Framed(const google::protobuf::Message& message) {
  std::string out;
  AppendMessageFrame(message.SerializeAsString(), out);
  return out;
}

struct Decoded {
  std::vector<std::string> messages;
  HeaderList trailers;
  std::string Trailer(std::string_view key) const {
    for (const auto& [k, v] : trailers) {
      if (k == key) return v;
    }
    return "";
  }
};

Decoded DecodeBody(std::string body, bool text = false) {
  if (text) {
    std::string raw;
    Base64StreamDecoder base64;
    EXPECT_TRUE(base64.Feed(body, raw).ok());
    EXPECT_TRUE(base64.Finish().ok());
    body = raw;
  }
  GrpcWebFrameDecoder decoder(1 << 24);
  std::vector<GrpcWebFrame> frames;
  EXPECT_TRUE(decoder.Feed(body, frames).ok());
  EXPECT_TRUE(decoder.Finish().ok());
  Decoded decoded;
  for (auto& frame : frames) {
    if (frame.trailers) {
      decoded.trailers = *ParseTrailerBlock(frame.payload);
    } else {
      EXPECT_TRUE(decoded.trailers.empty()) << "a message after the trailers";
      decoded.messages.push_back(frame.payload);
    }
  }
  return decoded;
}

class GrpcWebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&events_);
    grpc_server_ = builder.BuildAndStart();
    ASSERT_NE(grpc_server_, nullptr);
    bridge_ = std::make_unique<GrpcBridge>(grpc_server_->InProcessChannel(grpc::ChannelArguments()));
    router_ = std::make_unique<HttpRouter>(HttpRouterOptions{
        .policy = {.allowed_hosts = {"127.0.0.1", "localhost"},
                   .cors_allowed_origins = {"https://kiosk.example"}},
        .limits = {.max_message_bytes = 64 * 1024},
        .metrics = &metrics_});
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    auto server = HttpServer::Start(options, *router_, *bridge_);
    ASSERT_TRUE(server.ok()) << server.status();
    http_ = *std::move(server);
  }
  void TearDown() override {
    if (http_) http_->Stop();
    if (grpc_server_) grpc_server_->Shutdown();
  }

  HttpReply Call(const std::string& request) {
    HttpConnection connection(http_->port());
    EXPECT_TRUE(connection.Send(request));
    auto reply = connection.ReadReply();
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(HttpReply{});
  }

  double OpenWebStreams() {
    return metrics_.open_watch_streams(metrics::StreamTransport::kGrpcWeb).Value();
  }

  metrics::Metrics metrics_;
  FakeEvents events_{metrics_};
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<GrpcBridge> bridge_;
  std::unique_ptr<HttpRouter> router_;
  std::unique_ptr<HttpServer> http_;
};

constexpr char kListEvents[] = "/posd.v1.EventService/ListEvents";
constexpr char kWatchEvents[] = "/posd.v1.EventService/WatchEvents";

TEST_F(GrpcWebServerTest, UnaryCallInBinaryMode) {
  posd::v1::ListEventsRequest request;
  request.set_page_size(3);
  const HttpReply reply = Call(GrpcWebPost(kListEvents, Framed(request)));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("content-type"), "application/grpc-web+proto");
  EXPECT_EQ(reply.Header("x-served-by"), "fake");
  const Decoded decoded = DecodeBody(reply.body);
  ASSERT_EQ(decoded.messages.size(), 1u);
  posd::v1::ListEventsResponse response;
  ASSERT_TRUE(response.ParseFromString(decoded.messages[0]));
  EXPECT_EQ(response.events_size(), 3);
  EXPECT_EQ(decoded.Trailer("grpc-status"), "0");
  EXPECT_EQ(decoded.Trailer("x-after"), "done");
}

TEST_F(GrpcWebServerTest, UnaryCallInTextMode) {
  posd::v1::ListEventsRequest request;
  request.set_page_size(2);
  const HttpReply reply =
      Call(GrpcWebPost(kListEvents, Base64Encode(Framed(request)), "application/grpc-web-text"));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("content-type"), "application/grpc-web-text+proto");
  const Decoded decoded = DecodeBody(reply.body, /*text=*/true);
  ASSERT_EQ(decoded.messages.size(), 1u);
  posd::v1::ListEventsResponse response;
  ASSERT_TRUE(response.ParseFromString(decoded.messages[0]));
  EXPECT_EQ(response.events_size(), 2);
  EXPECT_EQ(decoded.Trailer("grpc-status"), "0");
}

TEST_F(GrpcWebServerTest, ErrorCarriesStatusMessageAndDetailsInTheTrailerFrame) {
  posd::v1::ListEventsRequest request;
  request.set_page_token("fail");
  const HttpReply reply = Call(GrpcWebPost(kListEvents, Framed(request)));
  ASSERT_EQ(reply.status, 200);
  const Decoded decoded = DecodeBody(reply.body);
  EXPECT_TRUE(decoded.messages.empty());
  EXPECT_EQ(decoded.Trailer("grpc-status"), "9");
  EXPECT_EQ(PercentDecodeGrpcMessage(decoded.Trailer("grpc-message")), "order is paid: 100% \xc3\xa9");
  EXPECT_EQ(decoded.Trailer("grpc-status-details-bin"), Base64Encode(std::string("\x08\x09\x00\xff", 4)));
  // Trailers-only: the status is in the headers as well.
  EXPECT_EQ(reply.Header("grpc-status"), "9");
}

TEST_F(GrpcWebServerTest, GrpcTimeoutSetsTheDeadline) {
  posd::v1::ListEventsRequest request;
  request.set_page_token("hang");
  const HttpReply reply =
      Call(GrpcWebPost(kListEvents, Framed(request), "application/grpc-web+proto",
                       {{"grpc-timeout", "50m"}}));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(DecodeBody(reply.body).Trailer("grpc-status"), "4");  // DEADLINE_EXCEEDED
}

TEST_F(GrpcWebServerTest, OnlyHarmlessHeadersAndTheElevationReachTheService) {
  posd::v1::ListEventsRequest request;
  request.set_page_token("metadata");
  const HttpReply reply = Call(GrpcWebPost(
      kListEvents, Framed(request), "application/grpc-web+proto",
      {{"authorization", "Bearer stolen-operator-token"}, {"posd-role", "operator"},
       {"cookie", "session=1"}, {"posd-elevation", "manager-pin-proof"}, {"x-request-id", "r1"}}));
  const Decoded decoded = DecodeBody(reply.body);
  ASSERT_EQ(decoded.messages.size(), 1u);
  posd::v1::ListEventsResponse response;
  ASSERT_TRUE(response.ParseFromString(decoded.messages[0]));
  const std::string& seen = response.next_page_token();
  EXPECT_THAT(seen, HasSubstr("posd-elevation=manager-pin-proof;"));
  EXPECT_THAT(seen, HasSubstr("x-request-id=r1;"));
  EXPECT_THAT(seen, ::testing::Not(HasSubstr("authorization")));
  EXPECT_THAT(seen, ::testing::Not(HasSubstr("posd-role")));
  EXPECT_THAT(seen, ::testing::Not(HasSubstr("cookie")));
}

TEST_F(GrpcWebServerTest, ServerStreamDeliversEachMessageAsItComes) {
  posd::v1::WatchEventsRequest request;
  request.set_since_sequence(3);
  HttpConnection connection(http_->port());
  ASSERT_TRUE(connection.Send(GrpcWebPost(kWatchEvents, Framed(request))));
  auto head = connection.ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("transfer-encoding"), "chunked");
  GrpcWebFrameDecoder decoder(1 << 20);
  std::vector<GrpcWebFrame> frames;
  while (frames.size() < 3) {
    auto chunk = connection.ReadChunk();
    ASSERT_TRUE(chunk.has_value());
    ASSERT_TRUE(decoder.Feed(*chunk, frames).ok());
  }
  for (int i = 0; i < 3; ++i) {
    posd::v1::Event event;
    ASSERT_TRUE(event.ParseFromString(frames[static_cast<std::size_t>(i)].payload));
    EXPECT_EQ(event.sequence(), static_cast<uint64_t>(i + 1));
  }
}

TEST_F(GrpcWebServerTest, ClosingTheStreamCancelsTheServerCallAtOnce) {
  posd::v1::WatchEventsRequest request;
  request.set_since_sequence(1);
  auto connection = std::make_unique<HttpConnection>(http_->port());
  ASSERT_TRUE(connection->Send(GrpcWebPost(kWatchEvents, Base64Encode(Framed(request)),
                                           "application/grpc-web-text")));
  ASSERT_TRUE(connection->ReadHead().has_value());
  ASSERT_TRUE(connection->ReadChunk().has_value());  // the first event arrived
  EXPECT_EQ(OpenWebStreams(), 1.0) << "peer " << events_.last_peer();
  connection.reset();  // the browser closes the tab
  // The server-side stream ends (its gauge drops) without any deadline.
  EXPECT_TRUE(::posd::testing::WaitUntil([&] { return OpenWebStreams() == 0.0; },
                                         std::chrono::seconds(10)));
}

TEST_F(GrpcWebServerTest, MalformedBodiesGetAGrpcErrorAndReachNoService) {
  posd::v1::ListEventsRequest request;
  request.set_page_token("metadata");
  const std::string good = Framed(request);
  struct Case {
    std::string body;
    std::string content_type;
    std::string status;
  };
  const std::vector<Case> cases = {
      {good.substr(0, good.size() - 1), "application/grpc-web+proto", "3"},
      {std::string("\x00\x00\x01", 3), "application/grpc-web+proto", "3"},
      {std::string("\x01\x00\x00\x00\x01x", 6), "application/grpc-web+proto", "12"},
      {std::string("\x80\x00\x00\x00\x00", 5), "application/grpc-web+proto", "3"},
      {std::string("\x00\x00\x01\x00\x01", 5) + std::string(65537, 'x'), "application/grpc-web", "8"},
      {"not base64!", "application/grpc-web-text", "3"},
      {Base64Encode(good).substr(1), "application/grpc-web-text", "3"},
  };
  for (const auto& c : cases) {
    const HttpReply reply = Call(GrpcWebPost(kListEvents, c.body, c.content_type));
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.Header("grpc-status"), c.status) << c.content_type << " " << c.body.size();
  }
  const HttpReply bad_timeout = Call(GrpcWebPost(kListEvents, good, "application/grpc-web+proto",
                                                 {{"grpc-timeout", "soon"}}));
  EXPECT_EQ(bad_timeout.Header("grpc-status"), "3");
}

TEST_F(GrpcWebServerTest, WrongContentTypeMethodOrSizeGetsAClearHttpError) {
  posd::v1::ListEventsRequest request;
  EXPECT_EQ(Call(GrpcWebPost(kListEvents, Framed(request), "application/json")).status, 415);
  EXPECT_EQ(Call(GrpcWebPost(kListEvents, Framed(request), "application/grpc-web+json")).status, 415);
  EXPECT_EQ(Call("GET /posd.v1.EventService/ListEvents HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").status,
            405);
  const HttpReply big = Call(GrpcWebPost(kListEvents, std::string(200 * 1024, 'x')));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Call("BROKEN\r\n\r\n").status, 400);
  EXPECT_EQ(Call("GET /nothing HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").status, 404);
}

TEST_F(GrpcWebServerTest, UnknownMethodIsUnimplemented) {
  const HttpReply reply = Call(GrpcWebPost("/posd.v1.EventService/NoSuchMethod", ""));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(DecodeBody(reply.body).Trailer("grpc-status"), "12");
}

TEST_F(GrpcWebServerTest, ForeignHostIsMisdirected) {
  posd::v1::ListEventsRequest request;
  EXPECT_EQ(Call(GrpcWebPost(kListEvents, Framed(request), "application/grpc-web+proto", {},
                             "rebind.evil.example:8780"))
                .status,
            421);
}

TEST_F(GrpcWebServerTest, CorsPreflightAndActualRequest) {
  const HttpReply preflight =
      Call("OPTIONS /posd.v1.EventService/ListEvents HTTP/1.1\r\nhost: 127.0.0.1\r\n"
           "origin: https://kiosk.example\r\naccess-control-request-method: POST\r\n"
           "access-control-request-headers: content-type,x-grpc-web,authorization\r\n\r\n");
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("access-control-allow-origin"), "https://kiosk.example");
  EXPECT_EQ(preflight.Header("access-control-allow-headers"), "content-type, x-grpc-web");
  const HttpReply refused =
      Call("OPTIONS /posd.v1.EventService/ListEvents HTTP/1.1\r\nhost: 127.0.0.1\r\n"
           "origin: https://evil.example\r\naccess-control-request-method: POST\r\n\r\n");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.Header("access-control-allow-origin"), "");

  posd::v1::ListEventsRequest request;
  const HttpReply allowed = Call(GrpcWebPost(kListEvents, Framed(request), "application/grpc-web+proto",
                                             {{"origin", "https://kiosk.example"}}));
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.Header("access-control-allow-origin"), "https://kiosk.example");
  EXPECT_EQ(allowed.Header("access-control-allow-credentials"), "true");
  const HttpReply foreign = Call(GrpcWebPost(kListEvents, Framed(request), "application/grpc-web+proto",
                                             {{"origin", "https://evil.example"}}));
  EXPECT_EQ(foreign.status, 403);
}

TEST_F(GrpcWebServerTest, KeepAliveServesSeveralCallsOnOneConnection) {
  HttpConnection connection(http_->port());
  for (int i = 1; i <= 3; ++i) {
    posd::v1::ListEventsRequest request;
    request.set_page_size(i);
    ASSERT_TRUE(connection.Send(GrpcWebPost(kListEvents, Framed(request))));
    auto reply = connection.ReadReply();
    ASSERT_TRUE(reply.has_value()) << i;
    const Decoded decoded = DecodeBody(reply->body);
    ASSERT_EQ(decoded.messages.size(), 1u);
    posd::v1::ListEventsResponse response;
    ASSERT_TRUE(response.ParseFromString(decoded.messages[0]));
    EXPECT_EQ(response.events_size(), i);
  }
}

TEST_F(GrpcWebServerTest, MetricsAreServedInPrometheusText) {
  const HttpReply reply = Call("GET /metrics HTTP/1.1\r\nhost: localhost:1\r\n\r\n");
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.Header("content-type"), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(reply.body, HasSubstr("posd_watch_events_streams_open{transport=\"grpc_web\"} 0"));
}

TEST_F(GrpcWebServerTest, StopCancelsOpenStreams) {
  posd::v1::WatchEventsRequest request;
  request.set_since_sequence(1);
  HttpConnection connection(http_->port());
  ASSERT_TRUE(connection.Send(GrpcWebPost(kWatchEvents, Framed(request))));
  ASSERT_TRUE(connection.ReadHead().has_value());
  ASSERT_TRUE(connection.ReadChunk().has_value());
  http_->Stop();
  EXPECT_TRUE(::posd::testing::WaitUntil([&] { return OpenWebStreams() == 0.0; },
                                         std::chrono::seconds(10)));
}

}  // namespace
}  // namespace posd::http
