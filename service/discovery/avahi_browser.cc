#include "service/discovery/avahi_browser.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <compare>
#include <map>
#include <mutex>
#include <set>

#include "service/common/strings.h"
#include "service/discovery/avahi_client_keeper.h"

namespace posd::discovery {
namespace {

// One instance as seen on one interface and protocol.
struct SightingKey {
  int interface = 0;
  int protocol = 0;
  std::string name;
  std::string type;
  std::string domain;
  auto operator<=>(const SightingKey&) const = default;
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

  // Avahi's thread (or under the keeper's lock).
  AvahiServiceBrowser* browser = nullptr;
  std::map<SightingKey, AvahiServiceResolver*> resolvers;

  // The io_context's thread.
  std::map<SightingKey, Announcement> sightings;
  std::map<std::string, Announcement, std::less<>> reported;  // by terminal id
  std::set<std::string> malformed_logged;                      // instance names

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
    browser = nullptr;
    resolvers.clear();
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
        if (resolvers.contains(key)) return;
        // Kept until the instance is removed: it reports again whenever the
        // instance's records change (a terminal that moved).
        AvahiServiceResolver* resolver = avahi_service_resolver_new(
            avahi_service_browser_get_client(b), interface, protocol, name, type, domain,
            AVAHI_PROTO_INET, static_cast<AvahiLookupFlags>(0),
            [](AvahiServiceResolver*, AvahiIfIndex i, AvahiProtocol p, AvahiResolverEvent e,
               const char* n, const char* t, const char* d, const char* host,
               const AvahiAddress* address, uint16_t port, AvahiStringList* txt,
               AvahiLookupResultFlags, void* impl) {
              static_cast<Impl*>(impl)->OnResolve(SightingKey{i, p, n, t, d}, e, host, address,
                                                  port, txt);
            },
            this);
        if (resolver == nullptr) {
          NoteError(StrCat("cannot resolve '", name, "': ",
                           avahi_strerror(avahi_client_errno(avahi_service_browser_get_client(b)))));
          return;
        }
        resolvers.emplace(std::move(key), resolver);
        break;
      }
      case AVAHI_BROWSER_REMOVE: {
        SightingKey key{interface, protocol, name, type, domain};
        auto found = resolvers.find(key);
        if (found == resolvers.end()) return;
        avahi_service_resolver_free(found->second);
        resolvers.erase(found);
        OnIo([key = std::move(key)](Impl& impl) { impl.SightingGone(key); });
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

  void OnResolve(SightingKey key, AvahiResolverEvent event, const char* host,
                 const AvahiAddress* address, uint16_t port, AvahiStringList* txt) {
    if (event != AVAHI_RESOLVER_FOUND) {
      const std::lock_guard lock(mutex);
      ++counters.resolve_failures;
      spdlog::debug("dns-sd: resolving '{}' failed: {}", key.name,
                    avahi_strerror(avahi_client_errno(keeper_client())));
      return;
    }
    absl::StatusOr<TerminalTxt> parsed = ParseTerminalTxt(TxtEntries(txt));
    if (!parsed.ok()) {
      OnIo([key = std::move(key), error = std::string(parsed.status().message())](Impl& impl) {
        impl.Malformed(key, error);
      });
      return;
    }
    char text[AVAHI_ADDRESS_STR_MAX] = {};
    avahi_address_snprint(text, sizeof(text), address);
    Announcement announcement{.terminal_id = parsed->terminal_id,
                              .instance_name = key.name,
                              .address = text,
                              .port = port,
                              .path = parsed->path,
                              .tls = parsed->tls,
                              .protocol_version = parsed->protocol_version,
                              .source = DiscoverySource::kDnsSd,
                              .observed_at = std::chrono::steady_clock::now()};
    spdlog::debug("dns-sd: '{}' resolved to {} {}:{}", key.name, host != nullptr ? host : "",
                  announcement.address, port);
    OnIo([key = std::move(key), announcement = std::move(announcement)](Impl& impl) {
      impl.Resolved(key, announcement);
    });
  }

  AvahiClient* keeper_client() const { return keeper ? keeper->client() : nullptr; }

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

  void SightingGone(const SightingKey& key) {
    auto found = sightings.find(key);
    if (found == sightings.end()) return;
    const std::string id = found->second.terminal_id;
    sightings.erase(found);
    Reconcile(id);
  }

  void VanishAll() {
    sightings.clear();
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
