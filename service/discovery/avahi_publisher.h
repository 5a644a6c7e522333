// A terminal's DNS-SD announcement (for posd-termsim): one `_posterm._tcp`
// service with the terminal's TXT record (txt_record.h), published through
// avahi-daemon (docs/protocol.md, "DNS-SD").
//
// On a specific address the publisher also announces an address record for a
// host name of the terminal's own and points the service's SRV at it, so the
// announcement says exactly where the terminal is. The host name is made of
// the id and the address ("posterm-counter-1-10-0-0-7.local"): one name per
// address, so that after Update() (the old records withdrawn, the new ones
// probed and announced) a resolver sees the SRV change with its new host, and
// never a mix of the new address with the old port, as it can when one host
// name changes its address. With no address (or 0.0.0.0) the service points
// at the daemon's own host name and addresses.
//
// Name collisions pick Avahi's alternative names (logged). When avahi-daemon
// goes away the publisher waits for it and publishes again when it returns.
// status() tells when the current announcement was established.
//
// Threading: Update() and status() from any thread. Lifetime: destroying the
// publisher withdraws the service.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/discovery/txt_record.h"

namespace posd::discovery {

struct AvahiPublisherOptions {
  std::string instance_name;  // the DNS-SD instance name, 1..63 bytes of UTF-8
  std::string address;        // IPv4 or IPv6 to announce; "" or 0.0.0.0: the host's
  uint16_t port = 0;          // the WebSocket server's TCP port, 1..65535
  TerminalTxt txt;
};

enum class PublisherState : uint8_t {
  kWaitingForDaemon,  // no avahi-daemon (yet, or any more)
  kRegistering,       // handed to the daemon, probing
  kEstablished,       // announced; the timestamps below are this announcement's
  kFailed,            // the daemon refused it (see last_error)
};
std::string_view PublisherStateName(PublisherState state);

struct PublisherStatus {
  PublisherState state = PublisherState::kWaitingForDaemon;
  std::string instance_name;  // the name in use (an alternative after a collision)
  std::string host_name;      // "posterm-<id>-<address>.local", or "" for the daemon's own
  std::string address;        // as given ("" for the host's own)
  uint16_t port = 0;
  // Times an announcement became established (ESTABLISHED from the daemon):
  // after Update(), wait for this to grow.
  uint64_t established_count = 0;
  // When the last one did, on the monotonic clock (comparable between
  // processes on one machine) and the wall clock.
  std::chrono::steady_clock::time_point established_at{};
  std::chrono::system_clock::time_point established_wall{};
  uint64_t collisions = 0;
  std::string last_error;
};

class AvahiPublisher {
 public:
  // INVALID_ARGUMENT for a bad instance name, address, port or TXT record; INTERNAL when Avahi's thread cannot start. A missing daemon
  // or bus is not an error: the service is published when it appears.
  static absl::StatusOr<std::unique_ptr<AvahiPublisher>> Create(AvahiPublisherOptions options);
  ~AvahiPublisher();
  AvahiPublisher(const AvahiPublisher&) = delete;
  AvahiPublisher& operator=(const AvahiPublisher&) = delete;

  // Announces the terminal at a new address and port (same rules as the
  // options). INVALID_ARGUMENT for a bad one; the announcement is unchanged.
  absl::Status Update(std::string_view address, uint16_t port);

  PublisherStatus status() const;

 private:
  struct Impl;
  explicit AvahiPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace posd::discovery
