// posd's DNS-SD discovery: browses `_posterm._tcp` (IPv4) through
// avahi-daemon, resolves every instance, reads its TXT record
// (txt_record.h) and reports discovery events to a DiscoverySink, like the
// UDP beacon listener: APPEARED for a new terminal id, UPDATED when its
// address, port, path, TLS flag or protocol version changed, VANISHED when it
// was withdrawn.
//
// One terminal is one id: an instance seen on several interfaces, or under
// several instance names (an old one and a renamed one), is reported once,
// at its most recently resolved target.
//
// A move is reported as soon as the new announcement arrives: besides the
// service resolver (which only sees a new SRV once the old one has left its
// cache, a second later), the browser watches each instance's SRV records
// and resolves a new SRV's host itself. A withdrawal is reported VANISHED
// only when the instance was not announced or resolved again within 1.5 s,
// since a moving terminal's unchanged PTR record can briefly drop out of a
// cache (about 2.5 s from the withdrawal in all). A malformed TXT record is ignored,
// counted and logged once per instance. When avahi-daemon goes away every
// terminal seen through it is reported VANISHED and the browser waits for
// the daemon (or the bus) to come back, then browses again; Create never
// fails for a missing daemon, since posd may start before it.
//
// Threading: Avahi calls back on its own thread; the browser posts to the
// io_context, and the sink is called there only. Create, the destructor and
// Current() belong to the io_context's thread; daemon_running() and
// counters() may be read from any thread. The io_context and the sink must
// outlive the browser; destroying it stops browsing (no event after that).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/discovery/discovery_event.h"
#include "service/discovery/txt_record.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::discovery {

struct AvahiBrowserOptions {
  std::string service_type = kPostermServiceType;
  std::string domain;  // empty: the daemon's default browse domain (local)
};

struct AvahiBrowserCounters {
  uint64_t resolved = 0;          // resolutions with a valid TXT record
  uint64_t malformed = 0;         // resolutions ignored for their TXT record
  uint64_t resolve_failures = 0;  // resolutions that timed out or failed
  uint64_t daemon_connects = 0;   // times browsing started on a running daemon
  uint64_t daemon_losses = 0;     // times the daemon went away
  std::string last_error;         // why the last malformed or failed one was ignored
};

class AvahiBrowser {
 public:
  // Starts browsing (or waiting for the daemon). INTERNAL only when Avahi's
  // thread cannot start.
  static absl::StatusOr<std::unique_ptr<AvahiBrowser>> Create(boost::asio::io_context& io,
                                                              DiscoverySink& sink,
                                                              AvahiBrowserOptions options = {});
  ~AvahiBrowser();
  AvahiBrowser(const AvahiBrowser&) = delete;
  AvahiBrowser& operator=(const AvahiBrowser&) = delete;

  // True while connected to a running avahi-daemon.
  bool daemon_running() const;
  AvahiBrowserCounters counters() const;
  // The terminals seen and not vanished, by id.
  std::vector<Announcement> Current() const;

 private:
  struct Impl;
  explicit AvahiBrowser(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace posd::discovery
