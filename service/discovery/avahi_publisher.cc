#include "service/discovery/avahi_publisher.h"

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "service/common/strings.h"
#include "service/discovery/avahi_client_keeper.h"

namespace posd::discovery {
namespace {

// Collisions resolved in a row before giving up on one registration.
constexpr int kMaxRenames = 10;

bool IsAnyAddress(std::string_view address) {
  return address.empty() || address == "0.0.0.0" || address == "::";
}

absl::Status CheckTarget(std::string_view address, uint16_t port) {
  if (port == 0) return absl::InvalidArgumentError("dns-sd: port must be 1 to 65535");
  AvahiAddress parsed;
  if (!IsAnyAddress(address) &&
      avahi_address_parse(std::string(address).c_str(), AVAHI_PROTO_UNSPEC, &parsed) == nullptr) {
    return absl::InvalidArgumentError(StrCat("dns-sd: '", address, "' is not an IP address"));
  }
  return absl::OkStatus();
}

// "posterm-<id>-<address with '-' for '.' and ':'>", at most 63 bytes.
std::string HostLabel(std::string_view terminal_id, std::string_view address) {
  std::string dashed(address);
  for (char& c : dashed) {
    if (c == '.' || c == ':') c = '-';
  }
  const std::string suffix = StrCat("-", dashed);
  std::string label = StrCat("posterm-", terminal_id);
  label = label.substr(0, 63 - std::min<size_t>(suffix.size(), 40)) + suffix;
  label = label.substr(0, 63);
  while (!label.empty() && label.back() == '-') label.pop_back();
  return label;
}

// Takes Avahi's malloc'ed alternative name.
std::string TakeAvahiString(char* text) {
  std::string out = text != nullptr ? text : "";
  avahi_free(text);
  return out;
}

}  // namespace

std::string_view PublisherStateName(PublisherState state) {
  switch (state) {
    case PublisherState::kWaitingForDaemon: return "waiting-for-daemon";
    case PublisherState::kRegistering: return "registering";
    case PublisherState::kEstablished: return "established";
    case PublisherState::kFailed: return "failed";
  }
  return "unknown";
}

struct AvahiPublisher::Impl {
  // Poll thread, or under the keeper's lock.
  std::string instance_name;
  std::string terminal_id;
  std::string host_label;  // without ".local"; used when the address is specific
  std::string address;
  uint16_t port = 0;
  std::vector<std::string> txt;
  AvahiEntryGroup* group = nullptr;

  mutable std::mutex mutex;
  PublisherStatus status;  // guarded by mutex

  // Last, so that it is destroyed (thread stopped, service withdrawn) first.
  std::unique_ptr<AvahiClientKeeper> keeper;

  bool own_host() const { return !IsAnyAddress(address); }
  std::string host_fqdn() const { return host_label + ".local"; }

  void SetStatus(PublisherState state, std::string error = "") {
    const std::lock_guard lock(mutex);
    status.state = state;
    status.instance_name = instance_name;
    status.host_name = own_host() ? host_fqdn() : "";
    status.address = address;
    status.port = port;
    if (!error.empty()) status.last_error = std::move(error);
  }

  void Publish(AvahiClient* client) {
    if (group == nullptr) {
      group = avahi_entry_group_new(
          client,
          [](AvahiEntryGroup* g, AvahiEntryGroupState state, void* self) {
            static_cast<Impl*>(self)->OnGroupState(g, state);
          },
          this);
      if (group == nullptr) {
        Fail(StrCat("cannot create an entry group: ", avahi_strerror(avahi_client_errno(client))));
        return;
      }
    }
    if (avahi_entry_group_is_empty(group)) AddAndCommit();
  }

  // Adds the address record (own host) and the service, then commits.
  void AddAndCommit() {
    // avahi_string_list_add prepends: add in reverse to keep the order.
    AvahiStringList* txt_list = nullptr;
    for (auto entry = txt.rbegin(); entry != txt.rend(); ++entry) {
      txt_list = avahi_string_list_add(txt_list, entry->c_str());
    }
    int result = AVAHI_OK;
    for (int attempt = 0; attempt <= kMaxRenames; ++attempt) {
      avahi_entry_group_reset(group);
      AvahiProtocol protocol = AVAHI_PROTO_UNSPEC;
      if (own_host()) {
        AvahiAddress parsed;
        avahi_address_parse(address.c_str(), AVAHI_PROTO_UNSPEC, &parsed);
        protocol = parsed.proto;
        // No reverse (PTR) record: the daemon's own host may already claim
        // this address's reverse name, which would collide for nothing.
        result = avahi_entry_group_add_address(group, AVAHI_IF_UNSPEC, protocol,
                                               AVAHI_PUBLISH_NO_REVERSE, host_fqdn().c_str(),
                                               &parsed);
        if (result == AVAHI_ERR_COLLISION) {
          RenameHost();
          continue;
        }
        if (result < 0) break;
      }
      result = avahi_entry_group_add_service_strlst(
          group, AVAHI_IF_UNSPEC, protocol, static_cast<AvahiPublishFlags>(0),
          instance_name.c_str(), kPostermServiceType, nullptr,
          own_host() ? host_fqdn().c_str() : nullptr, port, txt_list);
      if (result == AVAHI_ERR_COLLISION) {
        RenameService();
        continue;
      }
      if (result < 0) break;
      result = avahi_entry_group_commit(group);
      break;
    }
    avahi_string_list_free(txt_list);
    if (result < 0) {
      Fail(StrCat("cannot publish '", instance_name, "': ", avahi_strerror(result)));
      return;
    }
    spdlog::info("dns-sd: publishing '{}' {} at {}{}:{}", instance_name, kPostermServiceType,
                 own_host() ? host_fqdn() + " " : "", own_host() ? address : "this host", port);
    SetStatus(PublisherState::kRegistering);
  }

  void RenameService() {
    std::string next = TakeAvahiString(avahi_alternative_service_name(instance_name.c_str()));
    spdlog::warn("dns-sd: the name '{}' is taken; trying '{}'", instance_name, next);
    instance_name = std::move(next);
    const std::lock_guard lock(mutex);
    ++status.collisions;
  }

  void RenameHost() {
    std::string next = TakeAvahiString(avahi_alternative_host_name(host_label.c_str()));
    spdlog::warn("dns-sd: the host name '{}.local' is taken; trying '{}.local'", host_label, next);
    host_label = std::move(next);
    const std::lock_guard lock(mutex);
    ++status.collisions;
  }

  void Fail(std::string error) {
    spdlog::error("dns-sd: {}", error);
    SetStatus(PublisherState::kFailed, std::move(error));
  }

  void OnGroupState(AvahiEntryGroup* g, AvahiEntryGroupState state) {
    switch (state) {
      case AVAHI_ENTRY_GROUP_ESTABLISHED: {
        {
          const std::lock_guard lock(mutex);
          ++status.established_count;
          status.established_at = std::chrono::steady_clock::now();
          status.established_wall = std::chrono::system_clock::now();
        }
        SetStatus(PublisherState::kEstablished);
        spdlog::info("dns-sd: '{}' established at {}:{}", instance_name,
                     own_host() ? address : "this host", port);
        break;
      }
      case AVAHI_ENTRY_GROUP_COLLISION:
        // Avahi does not say which record collided: the service name, or our
        // host name's address record. Rename both, so the next try succeeds.
        RenameService();
        if (own_host()) RenameHost();
        group = g;
        AddAndCommit();
        break;
      case AVAHI_ENTRY_GROUP_FAILURE:
        Fail(StrCat("publishing '", instance_name, "' failed: ",
                    avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g)))));
        break;
      case AVAHI_ENTRY_GROUP_UNCOMMITED:
      case AVAHI_ENTRY_GROUP_REGISTERING:
        break;
    }
  }
};

absl::StatusOr<std::unique_ptr<AvahiPublisher>> AvahiPublisher::Create(
    AvahiPublisherOptions options) {
  if (options.instance_name.empty() ||
      !avahi_is_valid_service_name(options.instance_name.c_str())) {
    return absl::InvalidArgumentError(
        StrCat("dns-sd: '", options.instance_name, "' is not a service instance name (1 to 63 "
                                                   "bytes)"));
  }
  if (absl::Status target = CheckTarget(options.address, options.port); !target.ok()) {
    return target;
  }
  auto txt = FormatTerminalTxt(options.txt);
  if (!txt.ok()) return txt.status();
  auto impl = std::make_unique<Impl>();
  impl->instance_name = std::move(options.instance_name);
  impl->terminal_id = options.txt.terminal_id;
  impl->host_label = HostLabel(impl->terminal_id, options.address);
  impl->address = std::move(options.address);
  impl->port = options.port;
  impl->txt = *std::move(txt);
  impl->SetStatus(PublisherState::kWaitingForDaemon);
  Impl* raw = impl.get();
  auto keeper = AvahiClientKeeper::Start(
      "dns-sd publisher",
      {.running = [raw](AvahiClient* client) { raw->Publish(client); },
       .host_name_changing =
           [raw](AvahiClient*) {
             if (raw->group != nullptr) avahi_entry_group_reset(raw->group);
             raw->SetStatus(PublisherState::kRegistering);
           },
       .lost =
           [raw] {
             raw->group = nullptr;
             raw->SetStatus(PublisherState::kWaitingForDaemon);
           }});
  if (!keeper.ok()) return keeper.status();
  impl->keeper = *std::move(keeper);
  return std::unique_ptr<AvahiPublisher>(new AvahiPublisher(std::move(impl)));
}

AvahiPublisher::AvahiPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AvahiPublisher::~AvahiPublisher() {
  impl_->keeper.reset();
  spdlog::info("dns-sd: withdrew '{}'", impl_->instance_name);
}

absl::Status AvahiPublisher::Update(std::string_view address, uint16_t port) {
  if (absl::Status target = CheckTarget(address, port); !target.ok()) return target;
  const AvahiClientKeeper::Lock lock(*impl_->keeper);
  impl_->address = std::string(address);
  impl_->host_label = HostLabel(impl_->terminal_id, address);
  impl_->port = port;
  if (impl_->group != nullptr && impl_->keeper->daemon_running()) {
    // A new entry group each time: avahi-daemon holds back an entry group
    // committed too often (about 15 times), which would leave a terminal
    // that moves a lot unannounced for seconds.
    AvahiClient* client = avahi_entry_group_get_client(impl_->group);
    avahi_entry_group_free(impl_->group);
    impl_->group = nullptr;
    impl_->Publish(client);
  } else {
    impl_->SetStatus(impl_->keeper->daemon_running() ? PublisherState::kRegistering
                                                     : PublisherState::kWaitingForDaemon);
  }
  return absl::OkStatus();
}

PublisherStatus AvahiPublisher::status() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->status;
}

}  // namespace posd::discovery
