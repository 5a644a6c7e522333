// posd's terminals: one DeviceDriver per registered device, all driven by
// one Boost.Asio io_context on one thread that the manager owns. Implements
// the engine's DevicePort, and serves the devices API (list, get with link
// statistics, trace, flight-recorder dumps).
//
// The registry itself lives in SQLite (device_registry.h); the manager is
// told about committed changes (Add after the row is written, Remove after
// it is deleted), so its drivers always match what is stored.
//
// Threading: every public method may be called from any thread. Work on a
// driver is posted to the io thread and, where a result is needed, waited
// for (a few microseconds: the io thread never waits for anyone, and
// DeviceEvents calls only queue). Called on the io thread itself (from a
// DeviceEvents callback), the work runs inline.
//
// Lifetime: Create starts the io thread; Stop() (or the destructor) closes
// every link, ends every trace stream with CANCELLED and joins the thread.
// The clock must outlive the manager.
#pragma once

#include <map>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "posd/v1/devices.pb.h"
#include "service/channel/serial_link_transport.h"
#include "service/channel/terminal_channel.h"
#include "service/common/clock.h"
#include "service/devices/device_driver.h"
#include "service/devices/device_registry.h"
#include "service/devices/events_relay.h"
#include "service/discovery/discovery_event.h"
#include "service/engine/device_port.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::devices {

struct DeviceManagerOptions {
  // Protocol timers; device_id defaults to "posd".
  channel::TerminalChannelOptions channel;
  channel::SerialLinkTransportOptions link;
  // WebSocket terminals (device_driver.h).
  websocket::WebSocketOptions websocket;
  std::string tls_ca_file;
  size_t recorder_capacity = FlightRecorder::kDefaultCapacity;
  const Clock* clock = nullptr;  // optional: the real clock
};

// A live trace: the subscription to read and the fan-out to leave.
struct TraceHandle {
  std::shared_ptr<TraceFanout> fanout;
  std::shared_ptr<TraceSubscription> subscription;
};

// Told (on the io thread) of a terminal announcing an id no device is bound
// to; must return at once. For auto_add.
using UnboundTerminalObserver = std::function<void(const discovery::Announcement& announcement)>;

// Also a DiscoverySink (subscribe it to the discovery hub): every WebSocket
// device follows the announcements of its terminal_id, and a device added
// later starts where its terminal was last announced.
class DeviceManager final : public engine::DevicePort, public discovery::DiscoverySink {
 public:
  static absl::StatusOr<std::unique_ptr<DeviceManager>> Create(DeviceManagerOptions options);
  ~DeviceManager() override;
  DeviceManager(const DeviceManager&) = delete;
  DeviceManager& operator=(const DeviceManager&) = delete;

  // Starts a driver for a registered device. ALREADY_EXISTS if one runs;
  // INVALID_ARGUMENT for a bad record; UNAVAILABLE after Stop. `opener`
  // replaces SerialPort::Open (tests).
  absl::Status Add(const DeviceRecord& record, channel::ByteStreamOpener opener = {});
  // Stops and forgets a driver; its traces end with NOT_FOUND. NOT_FOUND.
  absl::Status Remove(std::string_view id);

  // FAILED_PRECONDITION when transactions are in flight on the device
  // (DeleteDevice refuses then).
  absl::Status CheckRemovable(std::string_view id) const;

  std::vector<posd::v1::Device> List() const;
  absl::StatusOr<posd::v1::Device> Get(std::string_view id, bool with_link_stats) const;
  absl::StatusOr<DeviceRecord> Record(std::string_view id) const;
  // NOT_FOUND for an unknown device.
  absl::StatusOr<TraceHandle> Trace(std::string_view id, std::vector<posd::v1::TraceKind> kinds,
                                    std::function<void()> wake);
  absl::StatusOr<std::vector<posd::v1::TraceEntry>> Dump(std::string_view id,
                                                         size_t max_entries) const;
  size_t recorder_capacity() const { return options_.recorder_capacity; }

  // discovery::DiscoverySink: any thread; the work is queued to the io thread.
  void OnDiscoveryEvent(const discovery::DiscoveryEvent& event) override;
  // The device bound to `terminal_id` (a WebSocket device's terminal_id), if
  // any. Any thread.
  std::optional<std::string> DeviceBoundTo(std::string_view terminal_id) const;
  // Who hears of announced terminals that no device is bound to. Set before
  // discovery feeds the manager; empty detaches.
  void SetUnboundTerminalObserver(UnboundTerminalObserver observer);

  // Runs `work` on the io thread with the io_context that runs the links
  // (discovery sources live there too) and returns its status; UNAVAILABLE
  // when stopped. Blocks until done (inline when called on the io thread).
  absl::Status RunOnIoThread(const std::function<absl::Status(boost::asio::io_context&)>& work);

  // Closes every link (state DISCONNECTED, reason SHUTDOWN) and joins the io
  // thread. Idempotent.
  void Stop();

  // Who hears of every state or reason change (posd publishes them as
  // DEVICE_CHANGED events). Empty detaches; after that returns, no call is
  // running. The observer must return at once.
  void SetDeviceObserver(DeviceObserver observer) { events_.SetDeviceObserver(std::move(observer)); }

  // engine::DevicePort.
  void SetEvents(engine::DeviceEvents* events) override { events_.Set(events); }
  absl::Status CheckReady(std::string_view device_id) override;
  absl::Status StartSale(const engine::SaleRequest& request) override;
  absl::Status StartRefund(const engine::RefundRequest& request) override;
  absl::Status Cancel(std::string_view device_id, std::string_view transaction_id) override;
  absl::Status QueryStatus(std::string_view device_id, std::string_view transaction_id) override;

 private:
  explicit DeviceManager(DeviceManagerOptions options);

  std::shared_ptr<DeviceDriver> Find(std::string_view id) const;
  // Runs `work` on the io thread and returns its status; UNAVAILABLE when
  // stopped.
  absl::Status RunOnIo(const std::function<absl::Status()>& work);
  absl::Status OnDriver(std::string_view id,
                        const std::function<absl::Status(DeviceDriver&)>& work);

  DeviceManagerOptions options_;
  const Clock& clock_;
  EventsRelay events_;
  std::unique_ptr<boost::asio::io_context> io_;
  struct Guard;
  std::unique_ptr<Guard> work_guard_;
  std::thread thread_;
  std::thread::id io_thread_id_;

  void ApplyDiscoveryEvent(const discovery::DiscoveryEvent& event);

  // io thread only: the latest announcement of each terminal id visible now.
  std::map<std::string, discovery::Announcement, std::less<>> announced_;

  mutable std::mutex mutex_;
  UnboundTerminalObserver unbound_observer_;                                   // guarded by mutex_
  std::map<std::string, std::shared_ptr<DeviceDriver>, std::less<>> drivers_;  // guarded by mutex_
  bool stopped_ = false;                                                       // guarded by mutex_
};

}  // namespace posd::devices
