// posd's side of the UDP beacon (beacon.h): listens on one UDP address and
// port, validates every datagram (malformed ones are ignored and counted),
// and turns the beacons into discovery events: APPEARED for a new terminal
// id, UPDATED when its address (the datagram's source), port, path, TLS or
// protocol version changed, VANISHED when no beacon came for
// `expiry_intervals` of its announced interval.
//
// Threading: confined to the io_context's thread, like the sink's calls;
// counters() may be read from any thread. The io_context and the sink must
// outlive the listener. Destroying it stops it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/discovery/discovery_event.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::discovery {

struct BeaconListenerOptions {
  // IP address to bind ("0.0.0.0" to hear the whole network) and port; port
  // 0 picks a free one (tests).
  std::string address = "0.0.0.0";
  uint16_t port = 0;
  // A terminal vanishes after this many of its intervals without a beacon.
  uint32_t expiry_intervals = 3;
};

struct BeaconCounters {
  uint64_t received = 0;   // datagrams
  uint64_t accepted = 0;   // valid beacons
  uint64_t malformed = 0;  // ignored
  std::string last_error;  // why the last malformed one was ignored
};

class BeaconListener {
 public:
  // INVALID_ARGUMENT for a bad address or expiry; UNAVAILABLE when the
  // address cannot be bound.
  static absl::StatusOr<std::unique_ptr<BeaconListener>> Create(boost::asio::io_context& io,
                                                                BeaconListenerOptions options,
                                                                DiscoverySink& sink);
  ~BeaconListener();
  BeaconListener(const BeaconListener&) = delete;
  BeaconListener& operator=(const BeaconListener&) = delete;

  void Start();
  void Stop();

  uint16_t local_port() const { return port_; }
  BeaconCounters counters() const;
  // The terminals heard of and not vanished, by id.
  std::vector<Announcement> Current() const;

 private:
  struct Impl;
  struct Known {
    Announcement announcement;
    std::chrono::steady_clock::time_point expires_at;
  };
  BeaconListener(std::unique_ptr<Impl> impl, BeaconListenerOptions options, DiscoverySink& sink,
                 uint16_t port);
  void Receive();
  void OnDatagram(size_t size);
  void ArmExpiry();
  void Expire();

  std::unique_ptr<Impl> impl_;
  BeaconListenerOptions options_;
  DiscoverySink& sink_;
  uint16_t port_ = 0;
  bool running_ = false;
  std::map<std::string, Known, std::less<>> known_;
  mutable std::mutex mutex_;
  BeaconCounters counters_;  // guarded by mutex_
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace posd::discovery
