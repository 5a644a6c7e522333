// Holds the engine's DeviceEvents (and the DEVICE_CHANGED observer) for every driver and keeps
// DevicePort::SetEvents' promise: once SetEvents(nullptr) returns, no event
// is being delivered and none will be.
//
// Thread-safe. Deliveries take a shared lock for the duration of the call
// into DeviceEvents; that is not a lock held across an asynchronous callback:
// DeviceEvents only queues a command and returns at once (device_port.h), so
// SetEvents waits at most for those few microseconds.
#pragma once

#include <functional>
#include <shared_mutex>

#include "posd/v1/devices.pb.h"
#include "service/engine/device_port.h"

namespace posd::devices {

// Told about a device whose state or reason changed (for DEVICE_CHANGED
// events); must return at once.
using DeviceObserver = std::function<void(const posd::v1::Device& device)>;

class EventsRelay {
 public:
  // nullptr-equivalent (empty) detaches; after it returns no call is running.
  void SetDeviceObserver(DeviceObserver observer) {
    const std::unique_lock lock(mutex_);
    observer_ = std::move(observer);
  }
  void NotifyDevice(const posd::v1::Device& device) {
    const std::shared_lock lock(mutex_);
    if (observer_) observer_(device);
  }

  void Set(engine::DeviceEvents* events) {
    const std::unique_lock lock(mutex_);
    events_ = events;
  }
  // Runs `deliver` with the current events, if any.
  void Deliver(const std::function<void(engine::DeviceEvents&)>& deliver) {
    const std::shared_lock lock(mutex_);
    if (events_ != nullptr) deliver(*events_);
  }

 private:
  std::shared_mutex mutex_;
  engine::DeviceEvents* events_ = nullptr;  // guarded by mutex_
  DeviceObserver observer_;                 // guarded by mutex_
};

}  // namespace posd::devices
