#include "service/discovery/beacon_listener.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <span>

#include "service/common/strings.h"
#include "service/discovery/beacon.h"

namespace posd::discovery {

namespace net = boost::asio;
using udp = net::ip::udp;
using SteadyClock = std::chrono::steady_clock;

struct BeaconListener::Impl {
  explicit Impl(net::io_context& io) : socket(io), expiry(io) {}
  udp::socket socket;
  net::steady_timer expiry;
  udp::endpoint sender;
  // Larger than any valid beacon, so an oversized datagram is seen as such.
  std::array<uint8_t, 2048> buffer{};
};

absl::StatusOr<std::unique_ptr<BeaconListener>> BeaconListener::Create(
    net::io_context& io, BeaconListenerOptions options, DiscoverySink& sink) {
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(options.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(StrCat("beacon listen address '", options.address,
                                             "' is not an IP address"));
  }
  if (options.expiry_intervals == 0) {
    return absl::InvalidArgumentError("expiry_intervals: must be at least 1");
  }
  auto impl = std::make_unique<Impl>(io);
  const udp::endpoint endpoint(address, options.port);
  impl->socket.open(endpoint.protocol(), ec);
  if (!ec) impl->socket.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->socket.bind(endpoint, ec);
  if (ec) {
    return absl::UnavailableError(StrCat("cannot listen for beacons on ", options.address, ":",
                                         options.port, ": ", ec.message()));
  }
  const uint16_t port = impl->socket.local_endpoint().port();
  return std::unique_ptr<BeaconListener>(
      new BeaconListener(std::move(impl), std::move(options), sink, port));
}

BeaconListener::BeaconListener(std::unique_ptr<Impl> impl, BeaconListenerOptions options,
                               DiscoverySink& sink, uint16_t port)
    : impl_(std::move(impl)), options_(std::move(options)), sink_(sink), port_(port) {}

BeaconListener::~BeaconListener() {
  Stop();
  *alive_ = false;
}

void BeaconListener::Start() {
  if (running_) return;
  running_ = true;
  Receive();
}

void BeaconListener::Stop() {
  running_ = false;
  boost::system::error_code ignored;
  impl_->socket.cancel(ignored);
  impl_->expiry.cancel();
}

BeaconCounters BeaconListener::counters() const {
  const std::lock_guard lock(mutex_);
  return counters_;
}

std::vector<Announcement> BeaconListener::Current() const {
  std::vector<Announcement> out;
  for (const auto& [id, known] : known_) out.push_back(known.announcement);
  return out;
}

void BeaconListener::Receive() {
  impl_->socket.async_receive_from(
      net::buffer(impl_->buffer), impl_->sender,
      [this, alive = alive_](const boost::system::error_code& ec, size_t size) {
        if (!*alive || !running_) return;
        if (ec) {
          if (ec == net::error::operation_aborted) return;
          spdlog::warn("beacon listener: {}", ec.message());
        } else {
          OnDatagram(size);
        }
        Receive();
      });
}

void BeaconListener::OnDatagram(size_t size) {
  absl::StatusOr<Beacon> beacon =
      ParseBeacon(std::span<const uint8_t>(impl_->buffer.data(), size));
  {
    const std::lock_guard lock(mutex_);
    ++counters_.received;
    if (beacon.ok()) {
      ++counters_.accepted;
    } else {
      ++counters_.malformed;
      counters_.last_error = std::string(beacon.status().message());
    }
  }
  if (!beacon.ok()) {
    spdlog::debug("beacon from {} ignored: {}", impl_->sender.address().to_string(),
                  ToStd(beacon.status().message()));
    return;
  }
  const auto now = SteadyClock::now();
  Announcement announcement{.terminal_id = beacon->terminal_id,
                            .instance_name = "",
                            .address = impl_->sender.address().to_string(),
                            .port = beacon->port,
                            .path = beacon->path,
                            .tls = beacon->tls,
                            .protocol_version = beacon->protocol_version,
                            .source = DiscoverySource::kBeacon,
                            .observed_at = now};
  const auto expires_at =
      now + std::chrono::milliseconds(static_cast<int64_t>(beacon->interval_ms) *
                                      options_.expiry_intervals);
  auto found = known_.find(announcement.terminal_id);
  DiscoveryEvent event;
  bool tell = true;
  if (found == known_.end()) {
    event.type = DiscoveryEventType::kAppeared;
    known_.emplace(announcement.terminal_id, Known{announcement, expires_at});
  } else {
    tell = !found->second.announcement.SameTarget(announcement);
    event.type = DiscoveryEventType::kUpdated;
    found->second = Known{announcement, expires_at};
  }
  ArmExpiry();
  if (!tell) return;
  event.announcement = std::move(announcement);
  spdlog::info("terminal {} {} at {}:{} (beacon)", event.announcement.terminal_id,
               DiscoveryEventTypeName(event.type), event.announcement.address,
               event.announcement.port);
  sink_.OnDiscoveryEvent(event);
}

void BeaconListener::ArmExpiry() {
  if (known_.empty()) {
    impl_->expiry.cancel();
    return;
  }
  auto earliest = known_.begin()->second.expires_at;
  for (const auto& [id, known] : known_) earliest = std::min(earliest, known.expires_at);
  impl_->expiry.expires_at(earliest);
  impl_->expiry.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || !running_) return;
    Expire();
  });
}

void BeaconListener::Expire() {
  const auto now = SteadyClock::now();
  std::vector<DiscoveryEvent> gone;
  for (auto it = known_.begin(); it != known_.end();) {
    if (it->second.expires_at <= now) {
      gone.push_back(DiscoveryEvent{.type = DiscoveryEventType::kVanished,
                                    .announcement = std::move(it->second.announcement)});
      it = known_.erase(it);
    } else {
      ++it;
    }
  }
  ArmExpiry();
  for (const DiscoveryEvent& event : gone) {
    spdlog::info("terminal {} vanished (no beacon)", event.announcement.terminal_id);
    sink_.OnDiscoveryEvent(event);
  }
}

}  // namespace posd::discovery
