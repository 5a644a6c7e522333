// bench_grpcweb: what the HTTP edge costs, from one run on loopback.
//
//  unary   GetServerInfo and CreatePayment through gRPC-Web (HTTP/1.1 on
//          posd's HTTP listener, one keep-alive connection, binary mode)
//          beside the same calls over native gRPC on posd's Unix socket,
//          interleaved call by call so both see the same machine. Each
//          CreatePayment pays on the simulator (posd-termsim on a pty); the
//          payment's end is awaited (untimed) before the next one.
//  stream  Events per second delivered by WatchEvents to 1 and 32
//          concurrent gRPC-Web streams, each replaying every stored event
//          from sequence 0 (orders created beforehand), so the figure is
//          delivery, not production; native gRPC streams beside it.
//
// Machine-readable lines:
//   grpcweb method=GetServerInfo p50_us=... p99_us=... native_p50_us=... native_p99_us=... ratio=...
//   grpcweb method=CreatePayment ...
//   grpcweb_stream clients=32 events=... events_per_s=... native_events_per_s=...
// Exit status 0 when every call succeeded.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "posd/v1/admin.grpc.pb.h"
#include "posd/v1/devices.grpc.pb.h"
#include "posd/v1/events.grpc.pb.h"
#include "posd/v1/orders.grpc.pb.h"
#include "posd/v1/payments.grpc.pb.h"
#include "service/common/strings.h"
#include "service/http/grpc_web_framing.h"
#include "tests/support/http_client.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using posd::testing::HttpConnection;
using posd::testing::Subprocess;

struct Options {
  int unary_calls = 2000;
  int payments = 200;
  int stored_events = 20000;
  std::vector<int> stream_clients = {1, 32};
  std::string posd = POSD_BINARY;
  std::string termsim = POSD_TERMSIM_BINARY;
};

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

// One gRPC-Web unary call on a keep-alive connection; the response message.
std::optional<std::string> WebUnary(HttpConnection& connection, const std::string& method,
                                    const google::protobuf::Message& request) {
  std::string body;
  posd::http::AppendMessageFrame(request.SerializeAsString(), body);
  if (!connection.Send(posd::testing::GrpcWebPost(method, body))) return std::nullopt;
  auto reply = connection.ReadReply();
  if (!reply || reply->status != 200) return std::nullopt;
  posd::http::GrpcWebFrameDecoder decoder(1 << 24);
  std::vector<posd::http::GrpcWebFrame> frames;
  if (!decoder.Feed(reply->body, frames).ok() || frames.size() != 2 || frames[0].trailers) {
    return std::nullopt;
  }
  if (frames[1].payload.find("grpc-status: 0\r\n") == std::string::npos) return std::nullopt;
  return frames[0].payload;
}

struct UnaryFigures {
  std::vector<double> web;
  std::vector<double> native;
  int errors = 0;
};

void PrintUnary(const char* method, const UnaryFigures& f) {
  const double web50 = Percentile(f.web, 0.5), native50 = Percentile(f.native, 0.5);
  std::printf("grpcweb method=%s calls=%zu p50_us=%.1f p99_us=%.1f native_p50_us=%.1f "
              "native_p99_us=%.1f ratio=%.2f\n",
              method, f.web.size(), web50, Percentile(f.web, 0.99), native50,
              Percentile(f.native, 0.99), native50 > 0 ? web50 / native50 : 0.0);
}

bool WaitForPaymentEnd(posd::v1::PaymentService::Stub& payments, const std::string& id) {
  return posd::testing::WaitUntil(
      [&] {
        grpc::ClientContext context;
        posd::v1::GetPaymentRequest request;
        request.set_payment_id(id);
        posd::v1::Payment payment;
        if (!payments.GetPayment(&context, request, &payment).ok()) return false;
        return payment.status() == posd::v1::PAYMENT_STATUS_APPROVED;
      },
      30s);
}

// Every stored event, replayed to `clients` concurrent streams; events/s.
double WebStream(uint16_t port, int clients, uint64_t head, std::atomic<int>& errors) {
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      HttpConnection connection(port);
      posd::v1::WatchEventsRequest request;
      request.set_since_sequence(0);
      std::string body;
      posd::http::AppendMessageFrame(request.SerializeAsString(), body);
      if (!connection.Send(posd::testing::GrpcWebPost("/posd.v1.EventService/WatchEvents", body)) ||
          !connection.ReadHead()) {
        ++errors;
        return;
      }
      posd::http::GrpcWebFrameDecoder decoder(1 << 24);
      std::vector<posd::http::GrpcWebFrame> frames;
      uint64_t last = 0;
      while (last < head) {
        auto chunk = connection.ReadChunk(30s);
        if (!chunk || chunk->empty() || !decoder.Feed(*chunk, frames).ok()) {
          ++errors;
          return;
        }
        for (const auto& frame : frames) {
          posd::v1::Event event;
          if (frame.trailers || !event.ParseFromString(frame.payload)) {
            ++errors;
            return;
          }
          last = event.sequence();
        }
        frames.clear();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return static_cast<double>(head) * clients / std::chrono::duration<double>(Clock::now() - start).count();
}

double NativeStream(const std::string& address, int clients, uint64_t head, std::atomic<int>& errors) {
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      auto stub = posd::v1::EventService::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      posd::v1::WatchEventsRequest request;
      request.set_since_sequence(0);
      auto reader = stub->WatchEvents(&context, request);
      posd::v1::Event event;
      uint64_t last = 0;
      while (last < head && reader->Read(&event)) last = event.sequence();
      if (last < head) ++errors;
      context.TryCancel();
      reader->Finish();
    });
  }
  for (auto& thread : threads) thread.join();
  return static_cast<double>(head) * clients / std::chrono::duration<double>(Clock::now() - start).count();
}

int Run(const Options& options, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "logs");
  const std::filesystem::path link = dir / "terminal.pty";
  Subprocess sim = Subprocess::Start({options.termsim, "--pty", "--link", link.string(), "--ledger",
                                      (dir / "ledger").string(), "--device-id", "sim-1",
                                      "--step-ms", "1", "--log-level", "warn"},
                                     dir / "logs");
  if (!posd::testing::WaitUntil([&] { return std::filesystem::exists(link); }, 60s)) {
    std::fprintf(stderr, "the simulator did not start\n");
    return 1;
  }
  const uint16_t port = posd::testing::PickFreePort();
  const posd::testing::PosdPaths paths(dir);
  posd::testing::WritePosdConfig(
      paths, posd::StrCat("logging:\n  level: warn\nhttp:\n  listen: 127.0.0.1:", port,
                          "\ndevices:\n  - id: counter-1\n    serial:\n      port: ", link.string(),
                          "\n"));
  Subprocess posd = posd::testing::StartPosd(options.posd, paths, dir / "logs", 60s);
  if (!posd.Running()) {
    std::fprintf(stderr, "posd did not start: %s\n", posd.Stderr().c_str());
    return 1;
  }
  auto channel = grpc::CreateChannel(paths.address(), grpc::InsecureChannelCredentials());
  auto admin = posd::v1::AdminService::NewStub(channel);
  auto payments = posd::v1::PaymentService::NewStub(channel);
  auto devices = posd::v1::DeviceService::NewStub(channel);
  if (!posd::testing::WaitUntil(
          [&] {
            grpc::ClientContext context;
            posd::v1::GetDeviceRequest request;
            request.set_device_id("counter-1");
            posd::v1::Device device;
            return devices->GetDevice(&context, request, &device).ok() &&
                   device.state() == posd::v1::DEVICE_STATE_READY;
          },
          60s)) {
    std::fprintf(stderr, "the terminal did not become READY\n");
    return 1;
  }
  HttpConnection web(port);
  int failures = 0;

  UnaryFigures info;
  for (int i = -50; i < options.unary_calls; ++i) {  // the first 50 warm up
    const posd::v1::GetServerInfoRequest request;
    auto start = Clock::now();
    const bool web_ok = WebUnary(web, "/posd.v1.AdminService/GetServerInfo", request).has_value();
    const double web_us = Micros(Clock::now() - start);
    grpc::ClientContext context;
    posd::v1::ServerInfo response;
    start = Clock::now();
    const bool native_ok = admin->GetServerInfo(&context, request, &response).ok();
    const double native_us = Micros(Clock::now() - start);
    if (!web_ok || !native_ok) ++info.errors;
    if (i >= 0) {
      info.web.push_back(web_us);
      info.native.push_back(native_us);
    }
  }
  PrintUnary("GetServerInfo", info);
  failures += info.errors;

  UnaryFigures pay;
  for (int i = 0; i < options.payments; ++i) {
    for (const bool through_web : {true, false}) {
      posd::v1::CreatePaymentRequest request;
      request.set_request_id(posd::StrCat("bench-grpcweb-", i, through_web ? "-web" : "-native"));
      request.mutable_payment()->set_device_id("counter-1");
      request.mutable_payment()->mutable_amount()->set_amount_minor(1250);
      request.mutable_payment()->mutable_amount()->set_currency_code("EUR");
      posd::v1::Payment payment;
      const auto start = Clock::now();
      bool ok;
      if (through_web) {
        auto message = WebUnary(web, "/posd.v1.PaymentService/CreatePayment", request);
        ok = message && payment.ParseFromString(*message);
      } else {
        grpc::ClientContext context;
        ok = payments->CreatePayment(&context, request, &payment).ok();
      }
      const double us = Micros(Clock::now() - start);
      ok = ok && WaitForPaymentEnd(*payments, payment.id());
      if (!ok) ++pay.errors;
      (through_web ? pay.web : pay.native).push_back(us);
    }
  }
  PrintUnary("CreatePayment", pay);
  failures += pay.errors;

  // Stored events to replay: orders, created in parallel over the socket.
  std::vector<std::thread> writers;
  std::atomic<int> order_errors{0};
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      auto orders = posd::v1::OrderService::NewStub(channel);
      for (int i = w; i < options.stored_events; i += 8) {
        grpc::ClientContext context;
        posd::v1::CreateOrderRequest request;
        request.set_request_id(posd::StrCat("bench-order-", i));
        request.mutable_order()->set_currency_code("EUR");
        posd::v1::Order order;
        if (!orders->CreateOrder(&context, request, &order).ok()) ++order_errors;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  failures += order_errors.load();
  uint64_t head = 0;
  {
    grpc::ClientContext context;
    posd::v1::ListEventsRequest request;
    request.set_page_size(1);
    posd::v1::ListEventsResponse response;
    if (posd::v1::EventService::NewStub(channel)->ListEvents(&context, request, &response).ok()) {
      head = response.head_sequence();
    }
  }
  for (const int clients : options.stream_clients) {
    std::atomic<int> errors{0};
    const double web_rate = WebStream(port, clients, head, errors);
    const double native_rate = NativeStream(paths.address(), clients, head, errors);
    std::printf("grpcweb_stream clients=%d events=%llu events_per_s=%.0f native_events_per_s=%.0f\n",
                clients, static_cast<unsigned long long>(head), web_rate, native_rate);
    failures += errors.load();
  }
  web.Close();
  posd.Signal(SIGTERM);
  posd.WaitForExit(20s);
  sim.Signal(SIGTERM);
  sim.WaitForExit(20s);
  if (failures > 0) std::fprintf(stderr, "%d calls failed\n", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::filesystem::path parent = std::filesystem::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (name == "--dir") {
      parent = argv[i + 1];
    } else if (name == "--unary-calls" && value > 0) {
      options.unary_calls = value;
    } else if (name == "--payments" && value > 0) {
      options.payments = value;
    } else if (name == "--stored-events" && value > 0) {
      options.stored_events = value;
    } else {
      std::fprintf(stderr,
                   "usage: bench_grpcweb [--dir DIR] [--unary-calls N] [--payments N] "
                   "[--stored-events N]\n");
      return 2;
    }
  }
  std::string pattern = (std::filesystem::absolute(parent) / "bench_grpcweb.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "cannot make a folder in %s\n", parent.c_str());
    return 1;
  }
  const int status = Run(options, pattern);
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
  return status;
}
