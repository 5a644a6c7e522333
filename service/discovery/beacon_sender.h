// The terminal's side of the UDP beacon (beacon.h): sends the beacon to one
// unicast address every interval. It never enables SO_BROADCAST, so a
// broadcast target is refused by the kernel; tests send to 127.0.0.1 only.
//
// Threading: confined to the io_context's thread; the io_context must
// outlive the sender. Destroying it stops it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/discovery/beacon.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::discovery {

struct BeaconSenderOptions {
  // Where posd listens for beacons: an IP address (not a name) and a port.
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::chrono::milliseconds interval{kDefaultBeaconIntervalMs};
  // The IP address beacons are sent from (listeners take it as the
  // terminal's address); empty: the kernel's choice for the route.
  std::string source{};
  // What to announce; sequence and interval_ms are filled in by the sender.
  Beacon beacon;
};

class BeaconSender {
 public:
  // INVALID_ARGUMENT for a host that is not an IP address, port 0, an
  // interval outside 1 ms..600 s, or a beacon that would not parse.
  static absl::StatusOr<std::unique_ptr<BeaconSender>> Create(boost::asio::io_context& io,
                                                              BeaconSenderOptions options);
  ~BeaconSender();
  BeaconSender(const BeaconSender&) = delete;
  BeaconSender& operator=(const BeaconSender&) = delete;

  // Sends one beacon now and then one every interval until Stop.
  void Start();
  void Stop();
  // Announces something else from the next beacon on (a new port).
  void SetBeacon(const Beacon& beacon);
  // The terminal moved: beacons now come from `source` (an IP address, empty
  // for the kernel's choice) and announce `port`; one is sent at once when
  // running. INVALID_ARGUMENT for a bad address; UNAVAILABLE when it cannot
  // be bound (the sender keeps its old socket then).
  absl::Status MoveTo(const std::string& source, uint16_t port);

  uint64_t sent() const { return sent_; }
  uint64_t send_errors() const { return send_errors_; }

 private:
  struct Impl;
  BeaconSender(std::unique_ptr<Impl> impl, BeaconSenderOptions options);
  void SendOne();
  void Arm();

  std::unique_ptr<Impl> impl_;
  BeaconSenderOptions options_;
  uint32_t sequence_ = 0;
  uint64_t sent_ = 0;
  uint64_t send_errors_ = 0;
  bool running_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace posd::discovery
