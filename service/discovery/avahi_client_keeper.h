// Keeps one Avahi client connected to avahi-daemon for as long as it lives,
// on an AvahiThreadedPoll of its own: the piece the DNS-SD publisher and
// browser share.
//
// avahi-daemon may start after us, stop, restart; the system D-Bus may even
// be missing at first. The keeper always succeeds in starting and keeps
// trying: a client made with AVAHI_CLIENT_NO_FAIL waits for the daemon, a
// client that failed (the daemon went away) is freed and made again, and a
// bus that cannot be reached is tried again every second.
//
// Threading: the handlers run on the poll thread with the poll lock held;
// they may use the AvahiClient they are given but must not take the lock.
// Any other thread that calls Avahi holds a Lock. Lifetime: the handlers'
// owner must outlive the keeper; destroying the keeper stops the thread
// first, then frees the client with everything made through it (which
// withdraws what was published).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct AvahiClient;
struct AvahiThreadedPoll;
struct AvahiTimeout;

namespace posd::discovery {

class AvahiClientKeeper {
 public:
  struct Handlers {
    // The daemon is running: (re)create browsers and entry groups on `client`.
    std::function<void(AvahiClient* client)> running;
    // The daemon is renaming its host (S_REGISTERING or S_COLLISION): entry
    // groups must be reset and added again once `running` is called.
    std::function<void(AvahiClient* client)> host_name_changing;
    // The client is about to be freed, with every browser, resolver and
    // entry group made through it: forget them (do not free them).
    std::function<void()> lost;
  };

  // `what` names the user in logs ("dns-sd browser"). Fails only when the
  // poll thread cannot be made (INTERNAL).
  static absl::StatusOr<std::unique_ptr<AvahiClientKeeper>> Start(std::string what,
                                                                   Handlers handlers);
  ~AvahiClientKeeper();
  AvahiClientKeeper(const AvahiClientKeeper&) = delete;
  AvahiClientKeeper& operator=(const AvahiClientKeeper&) = delete;

  // Holds the poll lock: any thread but the poll thread, around Avahi calls.
  class Lock {
   public:
    explicit Lock(AvahiClientKeeper& keeper);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    AvahiThreadedPoll* poll_;
  };

  // The client, or null while the bus cannot be reached. Under a Lock, or
  // from a handler.
  AvahiClient* client() const { return client_; }
  // True while the client is connected to a running daemon. Any thread.
  bool daemon_running() const { return daemon_running_.load(); }
  // How many times the daemon was found running. Any thread.
  uint64_t connects() const { return connects_.load(); }

 private:
  AvahiClientKeeper(std::string what, Handlers handlers);
  void Connect();
  void ArmRetry();
  static void OnClientState(AvahiClient* client, int state, void* self);
  static void OnRetry(AvahiTimeout* timeout, void* self);

  std::string what_;
  Handlers handlers_;
  AvahiThreadedPoll* poll_ = nullptr;
  AvahiClient* client_ = nullptr;     // poll thread or under Lock
  AvahiTimeout* retry_ = nullptr;     // poll thread or under Lock
  bool bus_error_logged_ = false;     // poll thread
  std::atomic<bool> daemon_running_{false};
  std::atomic<uint64_t> connects_{0};
};

}  // namespace posd::discovery
