// discovery.auto_add: a terminal announcing an id that no device is bound to
// is registered as a WebSocket device with that id (following discovery,
// no fixed address), audited as a system action (create_device by actor
// "posd", role "system", reason "discovery.auto_add"), when the id is valid and
// no device has it. Like CreateDevice, the registry row and the audit record
// commit together through the engine, and only then does the driver start.
//
// Threading: Offer may be called from any thread (the device manager's
// unbound-terminal observer runs on the io thread) and returns at once; the
// write runs on a worker thread of its own. Each terminal id is tried once
// per run of posd.
//
// Lifetime: `devices`, `writer` and `clock` must outlive the adder; the
// destructor finishes the registration in progress and joins the worker.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "service/common/clock.h"
#include "service/devices/device_manager.h"
#include "service/discovery/discovery_event.h"
#include "service/engine/request_journal.h"

namespace posd::api {

class DeviceAutoAdder {
 public:
  DeviceAutoAdder(devices::DeviceManager& devices, engine::WriteRunner& writer, const Clock& clock);
  ~DeviceAutoAdder();
  DeviceAutoAdder(const DeviceAutoAdder&) = delete;
  DeviceAutoAdder& operator=(const DeviceAutoAdder&) = delete;

  // Queues the terminal for registration (once per terminal id).
  void Offer(const discovery::Announcement& announcement);

 private:
  void Run();
  absl::Status Register(const discovery::Announcement& announcement);

  devices::DeviceManager& devices_;
  engine::WriteRunner& writer_;
  const Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<discovery::Announcement> queue_;  // guarded by mutex_
  std::set<std::string> offered_;              // guarded by mutex_: terminal ids
  bool stopping_ = false;                      // guarded by mutex_
  std::thread worker_;
};

}  // namespace posd::api
