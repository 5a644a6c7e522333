// The one place every discovery source feeds (the UDP beacon listener, and
// Avahi's DNS-SD browser when the lead wires it): a DiscoverySink that keeps
// the current view per terminal id and source, merges the sources into one
// view per terminal, and fans the merged events out to any number of
// subscribers (the device follower, every DiscoverDevices stream).
//
// Merging. A terminal seen by DNS-SD and by the beacon is one terminal. Its
// current announcement is the newest one any source gave (a terminal that
// moved is announced at its new address first by whichever source is
// quicker). Subscribers hear APPEARED when the first source sees it, UPDATED
// when its current announcement changes place (address, port, path, TLS or
// protocol version), and VANISHED only when the last source that saw it let
// it go: a VANISHED from one source while another still sees it is not a
// vanish (at most an UPDATED to what the other source last said).
//
// Threading: thread-safe. Events are delivered one at a time, in order, on
// the thread that reported them (sources report on posd's io thread).
// Listeners run while the hub serialises deliveries: they must return at
// once (queue or post), and must not call OnDiscoveryEvent or Subscribe; a
// listener may end its own subscription.
//
// Lifetime: the hub must outlive its subscriptions.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "service/discovery/discovery_event.h"

namespace posd::discovery {

// One terminal as all sources together see it.
struct DiscoveredTerminal {
  Announcement current;                  // the newest announcement of any source
  std::vector<DiscoverySource> sources;  // the sources that see it now
};

class DiscoveryHub final : public DiscoverySink {
 public:
  using Listener = std::function<void(const DiscoveryEvent& event)>;

  // Ends its subscription when destroyed; after the destructor returns the
  // listener is not running and is never called again.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    friend class DiscoveryHub;
    struct Entry;
    Subscription(DiscoveryHub& hub, std::shared_ptr<Entry> entry)
        : hub_(hub), entry_(std::move(entry)) {}
    DiscoveryHub& hub_;
    std::shared_ptr<Entry> entry_;
  };

  DiscoveryHub() = default;
  ~DiscoveryHub() override = default;
  DiscoveryHub(const DiscoveryHub&) = delete;
  DiscoveryHub& operator=(const DiscoveryHub&) = delete;

  // DiscoverySink: what one source saw.
  void OnDiscoveryEvent(const DiscoveryEvent& event) override;

  // Subscribes `listener` to merged events. With include_current it first
  // hears APPEARED for every terminal visible now, then `current_listed` is
  // called (if set), with no live event lost, repeated or in between.
  std::unique_ptr<Subscription> Subscribe(Listener listener, bool include_current,
                                          const std::function<void()>& current_listed = {});

  // Every terminal visible now, by terminal id.
  std::vector<DiscoveredTerminal> Current() const;

  // A source that cannot work (a beacon port that cannot be bound): shown to
  // operators beside what discovery sees. An empty problem clears it.
  void SetSourceProblem(DiscoverySource source, std::string problem);
  // "beacon: cannot listen for beacons on 0.0.0.0:47800: Address in use".
  std::vector<std::string> SourceProblems() const;

 private:
  struct Terminal {
    std::map<DiscoverySource, Announcement> by_source;
    Announcement current;
  };
  void Deliver(const DiscoveryEvent& event);
  void Unsubscribe(const std::shared_ptr<Subscription::Entry>& entry);
  static DiscoveredTerminal ViewOf(const Terminal& terminal);

  // Held for a whole fan-out (and a Subscribe), so deliveries stay in order
  // and a new subscriber's snapshot joins the live events seamlessly.
  std::mutex delivery_mutex_;
  mutable std::mutex mutex_;
  std::map<std::string, Terminal, std::less<>> terminals_;                // guarded by mutex_
  std::vector<std::shared_ptr<Subscription::Entry>> subscribers_;         // guarded by mutex_
  std::map<DiscoverySource, std::string> problems_;                       // guarded by mutex_
};

}  // namespace posd::discovery
