#include "service/discovery/avahi_client_keeper.h"

#include <avahi-client/client.h>
#include <avahi-common/error.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/timeval.h>
#include <spdlog/spdlog.h>

#include <sys/time.h>

namespace posd::discovery {
namespace {

// How long to wait before trying an unreachable system bus again.
constexpr unsigned kBusRetryMs = 1000;

}  // namespace

absl::StatusOr<std::unique_ptr<AvahiClientKeeper>> AvahiClientKeeper::Start(std::string what,
                                                                            Handlers handlers) {
  auto keeper =
      std::unique_ptr<AvahiClientKeeper>(new AvahiClientKeeper(std::move(what), std::move(handlers)));
  keeper->poll_ = avahi_threaded_poll_new();
  if (keeper->poll_ == nullptr) {
    return absl::InternalError(keeper->what_ + ": cannot create Avahi's poll thread");
  }
  // Before the thread runs, so no lock is needed yet.
  keeper->Connect();
  if (avahi_threaded_poll_start(keeper->poll_) < 0) {
    return absl::InternalError(keeper->what_ + ": cannot start Avahi's poll thread");
  }
  return keeper;
}

AvahiClientKeeper::AvahiClientKeeper(std::string what, Handlers handlers)
    : what_(std::move(what)), handlers_(std::move(handlers)) {}

AvahiClientKeeper::~AvahiClientKeeper() {
  if (poll_ == nullptr) return;
  // Stopping joins the thread, so nothing runs concurrently with the frees.
  avahi_threaded_poll_stop(poll_);
  if (retry_ != nullptr) avahi_threaded_poll_get(poll_)->timeout_free(retry_);
  if (client_ != nullptr) avahi_client_free(client_);
  avahi_threaded_poll_free(poll_);
}

AvahiClientKeeper::Lock::Lock(AvahiClientKeeper& keeper) : poll_(keeper.poll_) {
  avahi_threaded_poll_lock(poll_);
}

AvahiClientKeeper::Lock::~Lock() { avahi_threaded_poll_unlock(poll_); }

void AvahiClientKeeper::Connect() {
  int error = 0;
  // The handler may run inside avahi_client_new (RUNNING when the daemon is
  // up); client_ is still null then, which OnClientState relies on.
  auto on_state = [](AvahiClient* c, AvahiClientState state, void* self) {
    AvahiClientKeeper::OnClientState(c, static_cast<int>(state), self);
  };
  AvahiClient* client = avahi_client_new(avahi_threaded_poll_get(poll_), AVAHI_CLIENT_NO_FAIL,
                                         on_state, this, &error);
  if (client == nullptr) {
    // NO_FAIL covers a missing daemon, not a missing bus.
    if (!bus_error_logged_) {
      spdlog::warn("{}: cannot reach the system D-Bus ({}); trying again every {} ms", what_,
                   avahi_strerror(error), kBusRetryMs);
      bus_error_logged_ = true;
    }
    ArmRetry();
    return;
  }
  bus_error_logged_ = false;
  client_ = client;
  if (avahi_client_get_state(client) == AVAHI_CLIENT_CONNECTING) {
    spdlog::info("{}: waiting for avahi-daemon", what_);
  }
}

void AvahiClientKeeper::ArmRetry() {
  struct timeval when;
  avahi_elapse_time(&when, kBusRetryMs, 0);
  const AvahiPoll* api = avahi_threaded_poll_get(poll_);
  if (retry_ == nullptr) {
    retry_ = api->timeout_new(api, &when, &AvahiClientKeeper::OnRetry, this);
  } else {
    api->timeout_update(retry_, &when);
  }
}

void AvahiClientKeeper::OnRetry(AvahiTimeout* timeout, void* self) {
  auto* keeper = static_cast<AvahiClientKeeper*>(self);
  avahi_threaded_poll_get(keeper->poll_)->timeout_update(timeout, nullptr);
  if (keeper->client_ == nullptr) keeper->Connect();
}

void AvahiClientKeeper::OnClientState(AvahiClient* client, int state, void* self) {
  auto* keeper = static_cast<AvahiClientKeeper*>(self);
  switch (static_cast<AvahiClientState>(state)) {
    case AVAHI_CLIENT_S_RUNNING:
      keeper->daemon_running_ = true;
      ++keeper->connects_;
      spdlog::info("{}: avahi-daemon is running", keeper->what_);
      if (keeper->handlers_.running) keeper->handlers_.running(client);
      break;
    case AVAHI_CLIENT_S_REGISTERING:
    case AVAHI_CLIENT_S_COLLISION:
      if (keeper->handlers_.host_name_changing) keeper->handlers_.host_name_changing(client);
      break;
    case AVAHI_CLIENT_CONNECTING:
      // Avahi 0.8 reports a vanished daemon as FAILURE; should a version go
      // back to CONNECTING instead, what was made through it is gone too.
      if (keeper->daemon_running_.exchange(false) && keeper->handlers_.lost) {
        spdlog::warn("{}: lost avahi-daemon; waiting for it to come back", keeper->what_);
        keeper->handlers_.lost();
      }
      break;
    case AVAHI_CLIENT_FAILURE: {
      keeper->daemon_running_ = false;
      // A failure inside avahi_client_new: it frees that client itself.
      if (client != keeper->client_) return;
      spdlog::warn("{}: lost avahi-daemon ({}); waiting for it to come back", keeper->what_,
                   avahi_strerror(avahi_client_errno(client)));
      if (keeper->handlers_.lost) keeper->handlers_.lost();
      avahi_client_free(client);
      keeper->client_ = nullptr;
      keeper->Connect();
      break;
    }
  }
}

}  // namespace posd::discovery
