// The driver of one terminal: its link (SerialLinkTransport over the serial
// port, or WebSocketClientTransport to a Wi-Fi terminal's server; wrapped by
// tracing decorators), the terminal protocol
// (TerminalChannel: handshake, heartbeats, exactly-once recovery), its state
// and reason (device_state.h), link statistics, its flight recorder and its
// trace fan-out. It translates the channel's reports into the engine's
// DeviceEvents.
//
// One link per terminal, however many UIs watch: watchers subscribe to the
// fan-out, which never touches the link.
//
// Threading: the link, the channel and every method marked "io thread" are
// confined to the io_context's thread (one thread runs posd's io_context).
// Snapshot(), recorder() and fanout() may be used from any thread: the
// snapshot is copied under a mutex that is never held while calling out.
//
// Lifetime: create and Start on the io thread; Close() on the io thread
// releases the link and the channel, after which the object may be destroyed
// on any thread. The io_context, the relay and the clock must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "posd/v1/devices.pb.h"
#include "service/channel/asio_timer.h"
#include "service/channel/serial_link_transport.h"
#include "service/channel/terminal_channel.h"
#include "service/common/clock.h"
#include "service/devices/device_registry.h"
#include "service/devices/device_state.h"
#include "service/devices/events_relay.h"
#include "service/devices/flight_recorder.h"
#include "service/devices/terminal_follower.h"
#include "service/discovery/discovery_event.h"
#include "service/devices/trace_fanout.h"
#include "service/devices/tracing_transport.h"
#include "service/websocket/websocket_client_transport.h"

namespace posd::devices {

struct DeviceDriverOptions {
  DeviceRecord record;
  channel::TerminalChannelOptions channel;
  channel::SerialLinkTransportOptions link;
  // WebSocket terminals: limits and timers, and the CA that signs terminal
  // certificates (record.websocket.tls).
  websocket::WebSocketOptions websocket;
  std::string tls_ca_file;
  size_t recorder_capacity = FlightRecorder::kDefaultCapacity;
  // Optional: opens the line (tests). Default: transport::SerialPort::Open.
  channel::ByteStreamOpener opener;
};

class DeviceDriver final : private channel::TerminalChannelListener {
 public:
  // INVALID_ARGUMENT for bad channel or link options. Nothing is opened
  // before Start.
  static absl::StatusOr<std::unique_ptr<DeviceDriver>> Create(boost::asio::io_context& io,
                                                              DeviceDriverOptions options,
                                                              EventsRelay& events,
                                                              const Clock& clock);
  ~DeviceDriver() override;
  DeviceDriver(const DeviceDriver&) = delete;
  DeviceDriver& operator=(const DeviceDriver&) = delete;

  // io thread. Starts connecting (and reconnecting with backoff for ever).
  void Start();
  // io thread. Closes the link; transactions in flight stay in doubt for the
  // engine (it queries them after the next start). Ends every trace with
  // `why`. Idempotent.
  void Close(Reason reason, const absl::Status& why);

  // io thread. WebSocket devices: their terminal_id was announced (the
  // manager passes only announcements of this device's terminal_id). The
  // driver follows it (terminal_follower.h). Ignored by serial devices.
  void OnAnnouncement(const discovery::Announcement& announcement);

  // io thread. DevicePort operations (see device_port.h).
  absl::Status StartSale(const engine::SaleRequest& request);
  absl::Status StartRefund(const engine::RefundRequest& request);
  absl::Status Cancel(std::string_view transaction_id);
  absl::Status QueryStatus(std::string_view transaction_id);

  // Any thread.
  const std::string& id() const { return id_; }
  const DeviceRecord& record() const { return record_; }
  posd::v1::Device Snapshot(bool with_link_stats) const;
  // OK when a new transaction may start; FAILED_PRECONDITION saying why not.
  absl::Status CheckReady() const;
  // Transactions without an outcome yet (sales, refunds, status queries).
  size_t in_flight() const { return in_flight_.load(); }
  FlightRecorder& recorder() { return *recorder_; }
  const std::shared_ptr<TraceFanout>& fanout() const { return fanout_; }

 private:
  DeviceDriver(boost::asio::io_context& io, DeviceDriverOptions options, EventsRelay& events,
               const Clock& clock);

  // TerminalChannelListener.
  void OnTerminalReady(const channel::TerminalIdentity& terminal, bool terminal_restarted) override;
  void OnTerminalLost(std::string_view reason) override;
  void OnProgress(const link::v1::Progress& progress) override;
  void OnInProgress(std::string_view transaction_id) override;
  void OnInDoubt(std::string_view transaction_id, std::string_view reason) override;
  void OnOutcome(const channel::TransactionOutcome& outcome) override;
  void OnDeviceInfo(const link::v1::DeviceInfo& info) override;

  absl::StatusOr<std::unique_ptr<transport::ByteStream>> Open();
  // WebSocket: the outcome of one connection attempt.
  void OnConnectReport(const websocket::ConnectReport& report);
  void OnTransportDown(channel::TransportDownReason reason, std::string_view detail);
  void Record(posd::v1::TraceEntry entry);
  void LinkEvent(std::string_view type, std::string_view summary, std::string_view error = "");
  void SetState(State state, Reason reason, std::string detail);
  // READY or BUSY from the transactions in flight, when linked.
  void RefreshBusy();
  void CountLinkDown(Reason reason, std::string_view detail);
  // WebSocket: points the transport where the follower says.
  void Follow(const TerminalFollower::Move& move, std::string_view why);

  boost::asio::io_context& io_;
  const DeviceRecord record_;
  const std::string id_;
  DeviceDriverOptions options_;
  EventsRelay& events_;
  const Clock& clock_;
  std::unique_ptr<FlightRecorder> recorder_;
  std::shared_ptr<TraceFanout> fanout_ = std::make_shared<TraceFanout>();

  // io thread only.
  channel::AsioTimerFactory timers_;
  std::unique_ptr<TracingTransport> transport_;
  std::unique_ptr<channel::TerminalChannel> channel_;
  bool closed_ = false;
  bool linked_ = false;  // handshake done and not lost since
  // Sales and refunds in flight, and transactions a status query found the
  // terminal still working on: each keeps the terminal BUSY until its outcome.
  std::set<std::string, std::less<>> busy_with_;
  std::set<std::string, std::less<>> queried_;    // adopted by QueryStatus
  uint64_t next_entry_number_ = 1;
  Reason last_transport_down_ = posd::v1::DEVICE_STATE_REASON_UNSPECIFIED;
  // Why the channel last lost the terminal. When it reset the transport for
  // that reason, the transport's down event (queued, so it comes after
  // OnTerminalLost) carries the same text and is not a second loss.
  std::string reported_loss_;
  std::string last_open_error_;
  std::atomic<size_t> in_flight_{0};
  // io thread: the terminal's latest DeviceInfo declared
  // CAPABILITY_PARTIAL_APPROVAL, so a smaller approved amount is honoured.
  bool partial_approval_declared_ = false;

  mutable std::mutex mutex_;
  posd::v1::Device device_;    // guarded by mutex_: state, identity, timestamps
  posd::v1::LinkStats stats_;  // guarded by mutex_
  double srtt_ms_ = 0;         // guarded by mutex_
  channel::SerialLinkTransport* serial_ = nullptr;  // io thread; for its counters
  // io thread; WebSocket devices only. Discovery will re-point it
  // (SetEndpoint) when the terminal announces a new address.
  websocket::WebSocketClientTransport* websocket_ = nullptr;
  // io thread; WebSocket devices only: where to look for the terminal, and
  // where the current (or last) connection went.
  std::unique_ptr<TerminalFollower> follower_;
  websocket::Endpoint connected_endpoint_;
  std::string link_name_;  // LinkName(record_)
};

}  // namespace posd::devices
