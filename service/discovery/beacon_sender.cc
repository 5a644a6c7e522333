#include "service/discovery/beacon_sender.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <span>

#include "service/common/strings.h"

namespace posd::discovery {

namespace net = boost::asio;
using udp = net::ip::udp;

namespace {

// Opens `socket` for `target`, bound to `source` when given.
absl::Status OpenSocket(udp::socket& socket, const udp::endpoint& target,
                        const std::string& source) {
  boost::system::error_code ec;
  net::ip::address from;
  if (!source.empty()) {
    from = net::ip::make_address(source, ec);
    if (ec) {
      return absl::InvalidArgumentError(StrCat("beacon source '", source,
                                               "' is not an IP address"));
    }
  }
  socket.open(target.protocol(), ec);
  if (!ec && !source.empty()) socket.bind(udp::endpoint(from, 0), ec);
  if (ec) {
    boost::system::error_code ignored;
    socket.close(ignored);
    return absl::UnavailableError(StrCat("beacon socket from '", source, "': ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

struct BeaconSender::Impl {
  explicit Impl(net::io_context& io) : socket(io), timer(io) {}
  udp::socket socket;
  net::steady_timer timer;
  udp::endpoint target;
};

absl::StatusOr<std::unique_ptr<BeaconSender>> BeaconSender::Create(net::io_context& io,
                                                                   BeaconSenderOptions options) {
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(options.host, ec);
  if (ec) {
    return absl::InvalidArgumentError(StrCat("beacon target '", options.host,
                                             "' is not an IP address"));
  }
  if (options.port == 0) return absl::InvalidArgumentError("beacon target port: must be 1 to 65535");
  if (options.interval < std::chrono::milliseconds(1) ||
      options.interval > std::chrono::milliseconds(600000)) {
    return absl::InvalidArgumentError("beacon interval: must be 1 ms to 600 s");
  }
  options.beacon.interval_ms = static_cast<uint32_t>(options.interval.count());
  const std::string probe = EncodeBeacon(options.beacon);
  if (absl::StatusOr<Beacon> parsed = ParseBeacon(std::span(
          reinterpret_cast<const uint8_t*>(probe.data()), probe.size()));
      !parsed.ok()) {
    return parsed.status();
  }
  auto impl = std::make_unique<Impl>(io);
  impl->target = udp::endpoint(address, options.port);
  if (absl::Status opened = OpenSocket(impl->socket, impl->target, options.source); !opened.ok()) {
    return opened;
  }
  return std::unique_ptr<BeaconSender>(new BeaconSender(std::move(impl), std::move(options)));
}

absl::Status BeaconSender::MoveTo(const std::string& source, uint16_t port) {
  udp::socket moved(impl_->socket.get_executor());
  if (absl::Status opened = OpenSocket(moved, impl_->target, source); !opened.ok()) return opened;
  boost::system::error_code ignored;
  impl_->socket.close(ignored);
  impl_->socket = std::move(moved);
  options_.source = source;
  options_.beacon.port = port;
  if (running_) {
    // Announce the new place now, not an interval later.
    SendOne();
    Arm();
  }
  return absl::OkStatus();
}

BeaconSender::BeaconSender(std::unique_ptr<Impl> impl, BeaconSenderOptions options)
    : impl_(std::move(impl)), options_(std::move(options)) {}

BeaconSender::~BeaconSender() {
  Stop();
  *alive_ = false;
}

void BeaconSender::Start() {
  if (running_) return;
  running_ = true;
  SendOne();
  Arm();
}

void BeaconSender::Stop() {
  running_ = false;
  impl_->timer.cancel();
}

void BeaconSender::SetBeacon(const Beacon& beacon) {
  const uint32_t interval_ms = options_.beacon.interval_ms;
  options_.beacon = beacon;
  options_.beacon.interval_ms = interval_ms;
}

void BeaconSender::Arm() {
  impl_->timer.expires_after(options_.interval);
  impl_->timer.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || !running_) return;
    SendOne();
    Arm();
  });
}

void BeaconSender::SendOne() {
  Beacon beacon = options_.beacon;
  beacon.sequence = ++sequence_;
  auto payload = std::make_shared<std::string>(EncodeBeacon(beacon));
  impl_->socket.async_send_to(
      net::buffer(*payload), impl_->target,
      [this, payload, alive = alive_](const boost::system::error_code& ec, size_t) {
        if (!*alive) return;
        if (ec) {
          // Nobody listening is fine for UDP; anything else is worth a line.
          if (send_errors_++ == 0) spdlog::warn("beacon not sent: {}", ec.message());
          return;
        }
        ++sent_;
      });
}

}  // namespace posd::discovery
