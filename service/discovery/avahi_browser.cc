#include "service/discovery/avahi_browser.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/defs.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <atomic>
#include <compare>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "service/common/strings.h"
#include "service/discovery/avahi_client_keeper.h"
#include "service/discovery/srv_rdata.h"

namespace posd::discovery {
namespace {

// How long a withdrawn sighting may take to be announced again before it is
// reported gone. A terminal that moves withdraws its records and announces
// new ones about a second later; its unchanged PTR record can drop out of a
// cache in between (when the new announcement lands just as the goodbye's
// one second runs out), while its new SRV arrives and is resolved.
constexpr auto kWithdrawalGrace = std::chrono::milliseconds(1500);

// One instance as seen on one interface and protocol.
struct SightingKey {
  int interface = 0;
  int protocol = 0;
  std::string name;
  std::string type;
  std::string domain;
  auto operator<=>(const SightingKey&) const = default;
};

// What Avahi's thread keeps for one sighting.
struct Lookup {
  // Kept until the instance is removed: it reports again whenever the
  // instance's records change, though only after the old SRV has left the
  // cache, a second after the new one came (RFC 6762 10.2).
  AvahiServiceResolver* resolver = nullptr;
  // Sees a new SRV the moment it arrives; the new host is then resolved
  // by host_resolver, so a move is reported without that second.
  AvahiRecordBrowser* srv_browser = nullptr;
  AvahiHostNameResolver* host_resolver = nullptr;
  std::optional<TerminalTxt> txt;  // from the last valid resolution
  SrvTarget target;                // the last reported host and port
  SrvTarget pending;               // the host being resolved
};

std::vector<std::string> TxtEntries(AvahiStringList* list) {
  std::vector<std::string> entries;
  for (AvahiStringList* item = list; item != nullptr; item = avahi_string_list_get_next(item)) {
    entries.emplace_back(reinterpret_cast<const char*>(avahi_string_list_get_text(item)),
                         avahi_string_list_get_size(item));
  }
  return entries;
}

}  // namespace

struct AvahiBrowser::Impl {
  Impl(boost::asio::io_context& io_context, DiscoverySink& discovery_sink,
       AvahiBrowserOptions browser_options)
      : io(io_context), sink(discovery_sink), options(std::move(browser_options)) {}

  boost::asio::io_context& io;
  DiscoverySink& sink;
  const AvahiBrowserOptions options;
  std::weak_ptr<Impl> self;  // for work posted to the io_context

  // Counts lost daemons: a withdrawal belongs to the connection it came on.
  std::atomic<uint64_t> connection{0};

  // Avahi's thread (or under the keeper's lock).
  AvahiServiceBrowser* browser = nullptr;
  std::map<SightingKey, Lookup> lookups;

  // The io_context's thread.
  std::map<SightingKey, Announcement> sightings;
  std::map<std::string, Announcement, std::less<>> reported;  // by terminal id
  std::set<std::string> malformed_logged;                      // instance names
  std::map<SightingKey, std::chrono::steady_clock::time_point> last_alive;  // resolved or announced

  mutable std::mutex mutex;
  AvahiBrowserCounters counters;  // guarded by mutex

  // Last, so that it is destroyed (thread stopped) before the rest.
  std::unique_ptr<AvahiClientKeeper> keeper;

  // Runs `work` on the io_context unless the browser is gone by then.
  template <typename Work>
  void OnIo(Work work) {
    boost::asio::post(io, [weak = self, work = std::move(work)]() mutable {
      if (std::shared_ptr<Impl> impl = weak.lock()) work(*impl);
    });
  }

  // --- Avahi's thread ---

  void Browse(AvahiClient* client) {
    if (browser != nullptr) return;
    browser = avahi_service_browser_new(
        client, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, options.service_type.c_str(),
        options.domain.empty() ? nullptr : options.domain.c_str(),
        static_cast<AvahiLookupFlags>(0),
        [](AvahiServiceBrowser* b, AvahiIfIndex interface, AvahiProtocol protocol,
           AvahiBrowserEvent event, const char* name, const char* type, const char* domain,
           AvahiLookupResultFlags, void* impl) {
          static_cast<Impl*>(impl)->OnBrowse(b, interface, protocol, event, name, type, domain);
        },
        this);
    if (browser == nullptr) {
      NoteError(StrCat("cannot browse ", options.service_type, ": ",
                       avahi_strerror(avahi_client_errno(client))));
      return;
    }
    spdlog::info("dns-sd: browsing {}", options.service_type);
  }

  void Forget() {
    // The client is being freed with everything made through it.
    ++connection;
    browser = nullptr;
    lookups.clear();
    {
      const std::lock_guard lock(mutex);
      ++counters.daemon_losses;
    }
    OnIo([](Impl& impl) { impl.VanishAll(); });
  }

  void OnBrowse(AvahiServiceBrowser* b, AvahiIfIndex interface, AvahiProtocol protocol,
                AvahiBrowserEvent event, const char* name, const char* type,
                const char* domain) {
    switch (event) {
      case AVAHI_BROWSER_NEW: {
        SightingKey key{interface, protocol, name, type, domain};
        if (lookups.contains(key)) {
          // Announced again while its withdrawal is being confirmed.
          OnIo([key = std::move(key)](Impl& impl) { impl.Alive(key); });
          return;
        }
        AvahiServiceResolver* resolver = avahi_service_resolver_new(
            avahi_service_browser_get_client(b), interface, protocol, name, type, domain,
            AVAHI_PROTO_INET, static_cast<AvahiLookupFlags>(0),
            [](AvahiServiceResolver* r, AvahiIfIndex i, AvahiProtocol p, AvahiResolverEvent e,
               const char* n, const char* t, const char* d, const char* host,
               const AvahiAddress* address, uint16_t port, AvahiStringList* txt,
               AvahiLookupResultFlags, void* impl) {
              static_cast<Impl*>(impl)->OnResolve(r, SightingKey{i, p, n, t, d}, e, host,
                                                  address, port, txt);
            },
            this);
        if (resolver == nullptr) {
          NoteError(StrCat("cannot resolve '", name, "': ",
                           avahi_strerror(avahi_client_errno(avahi_service_browser_get_client(b)))));
          return;
        }
        lookups[std::move(key)].resolver = resolver;
        break;
      }
      case AVAHI_BROWSER_REMOVE: {
        SightingKey key{interface, protocol, name, type, domain};
        if (!lookups.contains(key)) return;
        MaybeGone(std::move(key));
        break;
      }
      case AVAHI_BROWSER_FAILURE:
        NoteError(StrCat("browsing failed: ",
                         avahi_strerror(avahi_client_errno(avahi_service_browser_get_client(b)))));
        break;
      case AVAHI_BROWSER_ALL_FOR_NOW:
      case AVAHI_BROWSER_CACHE_EXHAUSTED:
        break;
    }
  }

  void OnResolve(AvahiServiceResolver* resolver, SightingKey key, AvahiResolverEvent event,
                 const char* host, const AvahiAddress* address, uint16_t port,
                 AvahiStringList* txt) {
    if (event != AVAHI_RESOLVER_FOUND) {
      const std::lock_guard lock(mutex);
      ++counters.resolve_failures;
      spdlog::debug("dns-sd: resolving '{}' failed: {}", key.name,
                    avahi_strerror(avahi_client_errno(avahi_service_resolver_get_client(resolver))));
      return;
    }
    auto found = lookups.find(key);
    if (found == lookups.end()) return;
    Lookup& lookup = found->second;
    absl::StatusOr<TerminalTxt> parsed = ParseTerminalTxt(TxtEntries(txt));
    if (!parsed.ok()) {
      lookup.txt.reset();
      OnIo([key = std::move(key), error = std::string(parsed.status().message())](Impl& impl) {
        impl.Malformed(key, error);
      });
      return;
    }
    lookup.txt = *parsed;
    lookup.target = {.host = host != nullptr ? host : "", .port = port};
    if (lookup.srv_browser == nullptr) WatchSrv(avahi_service_resolver_get_client(resolver), key);
    Report(key, lookup, address);
  }

  // Watches the instance's SRV records, to see a move as soon as it is
  // announced.
  void WatchSrv(AvahiClient* client, const SightingKey& key) {
    char full_name[AVAHI_DOMAIN_NAME_MAX];
    if (avahi_service_name_join(full_name, sizeof(full_name), key.name.c_str(), key.type.c_str(),
                                key.domain.c_str()) < 0) {
      return;
    }
    lookups[key].srv_browser = avahi_record_browser_new(
        client, key.interface, key.protocol, full_name, AVAHI_DNS_CLASS_IN, AVAHI_DNS_TYPE_SRV,
        static_cast<AvahiLookupFlags>(0),
        [](AvahiRecordBrowser* b, AvahiIfIndex, AvahiProtocol, AvahiBrowserEvent event,
           const char*, uint16_t, uint16_t, const void* rdata, size_t size,
           AvahiLookupResultFlags, void* impl) {
          if (event == AVAHI_BROWSER_NEW) static_cast<Impl*>(impl)->OnNewSrv(b, rdata, size);
          if (event == AVAHI_BROWSER_REMOVE) static_cast<Impl*>(impl)->OnSrvRemoved(b, rdata, size);
        },
        this);
  }

  void OnNewSrv(AvahiRecordBrowser* srv_browser, const void* rdata, size_t size) {
    auto found = std::find_if(lookups.begin(), lookups.end(),
                              [&](const auto& entry) { return entry.second.srv_browser == srv_browser; });
    if (found == lookups.end()) return;
    Lookup& lookup = found->second;
    absl::StatusOr<SrvTarget> target = ParseSrvRdata(rdata, size);
    if (!target.ok() || !lookup.txt) return;
    if (target->host == lookup.target.host && target->port == lookup.target.port) return;
    if (lookup.host_resolver != nullptr) avahi_host_name_resolver_free(lookup.host_resolver);
    lookup.pending = *target;
    const SightingKey& key = found->first;
    lookup.host_resolver = avahi_host_name_resolver_new(
        avahi_record_browser_get_client(srv_browser), key.interface, key.protocol,
        target->host.c_str(), AVAHI_PROTO_INET, static_cast<AvahiLookupFlags>(0),
        [](AvahiHostNameResolver* r, AvahiIfIndex, AvahiProtocol, AvahiResolverEvent event,
           const char*, const AvahiAddress* address, AvahiLookupResultFlags, void* impl) {
          static_cast<Impl*>(impl)->OnHostResolved(r, event, address);
        },
        this);
  }

  // The current SRV went: the terminal withdrew (or is moving).
  void OnSrvRemoved(AvahiRecordBrowser* srv_browser, const void* rdata, size_t size) {
    auto found = std::find_if(lookups.begin(), lookups.end(),
                              [&](const auto& entry) { return entry.second.srv_browser == srv_browser; });
    if (found == lookups.end()) return;
    absl::StatusOr<SrvTarget> target = ParseSrvRdata(rdata, size);
    if (!target.ok() || target->host != found->second.target.host ||
        target->port != found->second.target.port) {
      return;
    }
    MaybeGone(found->first);
  }

  // Reported gone unless it is resolved or announced again within the grace.
  void MaybeGone(SightingKey key) {
    OnIo([key = std::move(key), at = std::chrono::steady_clock::now(),
          seen_on = connection.load()](Impl& impl) { impl.ConfirmGoneLater(key, at, seen_on); });
  }

  // Frees what Avahi's thread keeps for `key`. Poll thread or under the lock.
  void FreeLookup(const SightingKey& key) {
    auto found = lookups.find(key);
    if (found == lookups.end()) return;
    Lookup& lookup = found->second;
    avahi_service_resolver_free(lookup.resolver);
    if (lookup.srv_browser != nullptr) avahi_record_browser_free(lookup.srv_browser);
    if (lookup.host_resolver != nullptr) avahi_host_name_resolver_free(lookup.host_resolver);
    lookups.erase(found);
  }

  void OnHostResolved(AvahiHostNameResolver* resolver, AvahiResolverEvent event,
                      const AvahiAddress* address) {
    auto found = std::find_if(lookups.begin(), lookups.end(),
                              [&](const auto& entry) { return entry.second.host_resolver == resolver; });
    if (found == lookups.end()) return;
    Lookup& lookup = found->second;
    avahi_host_name_resolver_free(resolver);
    lookup.host_resolver = nullptr;
    if (event != AVAHI_RESOLVER_FOUND || !lookup.txt) return;
    lookup.target = lookup.pending;
    Report(found->first, lookup, address);
  }

  // Posts the sighting's current target to the io_context.
  void Report(const SightingKey& key, const Lookup& lookup, const AvahiAddress* address) {
    char text[AVAHI_ADDRESS_STR_MAX] = {};
    avahi_address_snprint(text, sizeof(text), address);
    Announcement announcement{.terminal_id = lookup.txt->terminal_id,
                              .instance_name = key.name,
                              .address = text,
                              .port = lookup.target.port,
                              .path = lookup.txt->path,
                              .tls = lookup.txt->tls,
                              .protocol_version = lookup.txt->protocol_version,
                              .source = DiscoverySource::kDnsSd,
                              .observed_at = std::chrono::steady_clock::now()};
    spdlog::debug("dns-sd: '{}' resolved to {} {}:{}", key.name, lookup.target.host,
                  announcement.address, announcement.port);
    OnIo([key, announcement = std::move(announcement)](Impl& impl) {
      impl.Resolved(key, announcement);
    });
  }

  void NoteError(std::string error) {
    spdlog::warn("dns-sd: {}", error);
    const std::lock_guard lock(mutex);
    counters.last_error = std::move(error);
  }

  // --- the io_context's thread ---

  void Resolved(const SightingKey& key, const Announcement& announcement) {
    {
      const std::lock_guard lock(mutex);
      ++counters.resolved;
    }
    std::string previous_id;
    if (auto found = sightings.find(key); found != sightings.end()) {
      previous_id = found->second.terminal_id;
    }
    sightings[key] = announcement;
    Alive(key);
    if (!previous_id.empty() && previous_id != announcement.terminal_id) Reconcile(previous_id);
    Reconcile(announcement.terminal_id);
  }

  void Malformed(const SightingKey& key, const std::string& error) {
    {
      const std::lock_guard lock(mutex);
      ++counters.malformed;
      counters.last_error = StrCat("'", key.name, "': ", error);
    }
    if (malformed_logged.insert(key.name).second) {
      spdlog::warn("dns-sd: ignoring '{}': {}", key.name, error);
    }
    // What it announced before no longer holds.
    SightingGone(key);
  }

  void Alive(const SightingKey& key) { last_alive[key] = std::chrono::steady_clock::now(); }

  void ConfirmGoneLater(const SightingKey& key, std::chrono::steady_clock::time_point withdrawn,
                        uint64_t seen_on) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io, kWithdrawalGrace);
    timer->async_wait([weak = self, key, withdrawn, seen_on,
                       timer](const boost::system::error_code& ec) {
      std::shared_ptr<Impl> impl = weak.lock();
      // After a lost daemon everything was reported gone, and a lookup of
      // the same key now is a new one.
      if (ec || !impl || impl->connection.load() != seen_on) return;
      if (auto alive = impl->last_alive.find(key);
          alive != impl->last_alive.end() && alive->second > withdrawn) {
        return;
      }
      impl->last_alive.erase(key);
      if (impl->keeper) {
        const AvahiClientKeeper::Lock lock(*impl->keeper);
        impl->FreeLookup(key);
      }
      impl->SightingGone(key);
    });
  }

  void SightingGone(const SightingKey& key) {
    auto found = sightings.find(key);
    if (found == sightings.end()) return;
    const std::string id = found->second.terminal_id;
    sightings.erase(found);
    Reconcile(id);
  }

  void VanishAll() {
    sightings.clear();
    last_alive.clear();
    std::vector<std::string> ids;
    for (const auto& [id, announcement] : reported) ids.push_back(id);
    for (const std::string& id : ids) Reconcile(id);
  }

  // Reports the change, if any, between what was reported for `id` and its
  // most recently resolved sighting.
  void Reconcile(const std::string& id) {
    const Announcement* latest = nullptr;
    for (const auto& [key, announcement] : sightings) {
      if (announcement.terminal_id != id) continue;
      if (latest == nullptr || announcement.observed_at > latest->observed_at) {
        latest = &announcement;
      }
    }
    auto current = reported.find(id);
    DiscoveryEvent event;
    if (latest == nullptr) {
      if (current == reported.end()) return;
      event = {.type = DiscoveryEventType::kVanished, .announcement = current->second};
      reported.erase(current);
    } else if (current == reported.end()) {
      event = {.type = DiscoveryEventType::kAppeared, .announcement = *latest};
      reported.emplace(id, *latest);
    } else {
      const bool same = current->second.SameTarget(*latest);
      current->second = *latest;
      if (same) return;
      event = {.type = DiscoveryEventType::kUpdated, .announcement = *latest};
    }
    spdlog::info("terminal {} {} at {}:{} (dns-sd '{}')", event.announcement.terminal_id,
                 DiscoveryEventTypeName(event.type), event.announcement.address,
                 event.announcement.port, event.announcement.instance_name);
    sink.OnDiscoveryEvent(event);
  }
};

absl::StatusOr<std::unique_ptr<AvahiBrowser>> AvahiBrowser::Create(boost::asio::io_context& io,
                                                                   DiscoverySink& sink,
                                                                   AvahiBrowserOptions options) {
  auto impl = std::make_shared<Impl>(io, sink, std::move(options));
  impl->self = impl;
  Impl* raw = impl.get();
  auto keeper = AvahiClientKeeper::Start(
      "dns-sd browser", {.running = [raw](AvahiClient* client) { raw->Browse(client); },
                         .host_name_changing = nullptr,
                         .lost = [raw] { raw->Forget(); }});
  if (!keeper.ok()) return keeper.status();
  {
    // The thread runs already: its handlers may be using the maps.
    const AvahiClientKeeper::Lock lock(**keeper);
    impl->keeper = *std::move(keeper);
  }
  return std::unique_ptr<AvahiBrowser>(new AvahiBrowser(std::move(impl)));
}

AvahiBrowser::AvahiBrowser(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

AvahiBrowser::~AvahiBrowser() {
  // Stop Avahi's thread first: nothing is posted after this, and what was
  // posted before finds the Impl gone.
  impl_->keeper.reset();
}

bool AvahiBrowser::daemon_running() const {
  return impl_->keeper != nullptr && impl_->keeper->daemon_running();
}

AvahiBrowserCounters AvahiBrowser::counters() const {
  AvahiBrowserCounters out;
  {
    const std::lock_guard lock(impl_->mutex);
    out = impl_->counters;
  }
  out.daemon_connects = impl_->keeper->connects();
  return out;
}

std::vector<Announcement> AvahiBrowser::Current() const {
  std::vector<Announcement> out;
  for (const auto& [id, announcement] : impl_->reported) out.push_back(announcement);
  return out;
}

}  // namespace posd::discovery
