#include "service/api/device_service.h"

#include <algorithm>
#include <deque>
#include <optional>

#include "google/protobuf/util/time_util.h"
#include "service/api/caller_role.h"
#include "service/api/status_conversion.h"
#include "service/common/error_info.h"
#include "service/common/strings.h"
#include "service/devices/device_registry.h"
#include "service/store/statement.h"
#include "spdlog/spdlog.h"

namespace posd::api {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kCreateMethod[] = "posd.v1.DeviceService.CreateDevice";
constexpr char kDeleteMethod[] = "posd.v1.DeviceService.DeleteDevice";

engine::AuditEntry AuditOf(const grpc::CallbackServerContext& context, std::string action,
                           std::string subject, std::string reason, std::string details) {
  return engine::AuditEntry{.actor = CallerName(context),
                            .role = std::string(RoleName(CallerRole(context))),
                            .action = std::move(action),
                            .subject = std::move(subject),
                            .reason = std::move(reason),
                            .details = std::move(details)};
}

int64_t NowMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock.WallNow().time_since_epoch())
      .count();
}

// Refuses to forget a terminal that still holds money in flight or in doubt:
// its outcome could then never be learned. Read inside the delete's write
// transaction, so no payment can be dispatched to it in between.
absl::Status CheckNothingUnfinished(store::Database& db, std::string_view device_id) {
  struct Check {
    const char* sql;
    const char* what;
  };
  static constexpr Check kChecks[] = {
      {"SELECT id, status FROM payments WHERE device_id = ? AND status IN ('CREATED', "
       "'DISPATCHED', 'AUTHORIZING', 'IN_DOUBT') ORDER BY id LIMIT 1",
       "payment"},
      {"SELECT id, status FROM refunds WHERE device_id = ? AND status IN ('DISPATCHED', "
       "'PROCESSING', 'IN_DOUBT') ORDER BY id LIMIT 1",
       "refund"},
  };
  for (const Check& check : kChecks) {
    auto statement = db.Prepare(check.sql);
    if (!statement.ok()) return statement.status();
    if (absl::Status bound = statement->BindText(1, device_id); !bound.ok()) return bound;
    auto row = statement->Step();
    if (!row.ok()) return row.status();
    if (*row) {
      const std::string status(statement->ColumnText(1));
      return absl::FailedPreconditionError(StrCat(
          "device ", device_id, " has ", check.what, " ", statement->ColumnText(0), " ",
          status == "IN_DOUBT" ? "IN_DOUBT (ERROR_REASON_PAYMENT_IN_DOUBT): resolve it first"
                               : StrCat(status, " (ERROR_REASON_PAYMENT_IN_FLIGHT): wait for it"),
          "; its outcome can only be learned from this terminal"));
    }
  }
  return absl::OkStatus();
}

// Ends a call to a method that is not live at once.
template <typename T>
class RefusedWriter final : public grpc::ServerWriteReactor<T> {
 public:
  explicit RefusedWriter(grpc::Status status) { this->Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

// One TraceDevice stream: one write in flight; entries wait in the
// subscription's bounded queue (the fan-out drops and counts when full).
class DeviceService::TraceReactor final : public grpc::ServerWriteReactor<posd::v1::TraceEntry> {
 public:
  TraceReactor(DeviceService& service, const posd::v1::TraceDeviceRequest& request)
      : service_(service), include_payload_(request.include_payload()) {
    std::vector<posd::v1::TraceKind> kinds;
    for (int kind : request.kinds()) kinds.push_back(static_cast<posd::v1::TraceKind>(kind));
    auto handle = service_.devices_.Trace(request.device_id(), std::move(kinds), [this] { Pump(); });
    if (!handle.ok()) {
      Finish(ToGrpcStatus(handle.status()));
      return;
    }
    {
      const std::lock_guard lock(mutex_);
      handle_ = *std::move(handle);
    }
    if (!service_.Track(handle_.subscription)) {
      devices::TraceFanout::End(handle_.subscription,
                                absl::UnavailableError("posd is shutting down"));
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      const std::lock_guard lock(mutex_);
      writing_ = false;
    }
    if (!ok) {
      // The client went away; OnCancel or OnDone follows.
      if (handle_.subscription) {
        devices::TraceFanout::End(handle_.subscription, absl::CancelledError("client gone"));
      }
      return;
    }
    Pump();
  }

  void OnCancel() override {
    if (handle_.subscription) {
      devices::TraceFanout::End(handle_.subscription, absl::CancelledError("trace cancelled"));
    }
  }

  void OnDone() override {
    if (handle_.subscription) {
      service_.Untrack(handle_.subscription);
      handle_.fanout->Unsubscribe(handle_.subscription);
    }
    delete this;
  }

 private:
  // Starts the next write or finishes; never holds mutex_ while calling gRPC.
  void Pump() {
    posd::v1::TraceEntry* to_write = nullptr;
    std::optional<absl::Status> to_finish;
    {
      const std::lock_guard lock(mutex_);
      if (writing_ || finished_ || !handle_.subscription) return;
      if (auto entry = handle_.subscription->TryPop()) {
        current_ = *std::move(entry);
        if (!include_payload_) current_.clear_payload();
        writing_ = true;
        to_write = &current_;
      } else if (handle_.subscription->has_ended()) {
        finished_ = true;
        to_finish = handle_.subscription->ended();
      }
    }
    if (to_write != nullptr) StartWrite(to_write);
    if (to_finish.has_value()) {
      // A client that cancelled hears CANCELLED from gRPC anyway.
      Finish(ToGrpcStatus(to_finish->ok() ? absl::CancelledError("trace ended") : *to_finish));
    }
  }

  DeviceService& service_;
  const bool include_payload_;
  devices::TraceHandle handle_;
  std::mutex mutex_;
  posd::v1::TraceEntry current_;  // guarded by mutex_ until handed to StartWrite
  bool writing_ = false;          // guarded by mutex_
  bool finished_ = false;         // guarded by mutex_
};

// One DiscoverDevices stream: hub events are converted and queued, one
// write in flight. Ends with UNAVAILABLE at shutdown (End).
class DeviceService::DiscoverReactor final
    : public grpc::ServerWriteReactor<posd::v1::DiscoveryEvent> {
 public:
  DiscoverReactor(DeviceService& service, grpc::CallbackServerContext& context,
                  const posd::v1::DiscoverDevicesRequest& request)
      : service_(service) {
    for (const std::string& problem : service_.hub_->SourceProblems()) {
      context.AddInitialMetadata(kDiscoveryProblemKey, problem);
    }
    StartSendInitialMetadata();
    if (!service_.TrackDiscover(this)) {
      End(absl::UnavailableError("posd is shutting down"));
      return;
    }
    subscription_ = service_.hub_->Subscribe(
        [this](const discovery::DiscoveryEvent& event) {
          {
            const std::lock_guard lock(mutex_);
            if (queue_.size() >= kMaxQueued) {
              overflowed_ = true;
            } else {
              queue_.push_back(ToProto(event));
            }
          }
          Pump();
        },
        request.include_current(), [this] {
          posd::v1::DiscoveryEvent listed;
          listed.set_type(posd::v1::DISCOVERY_EVENT_TYPE_CURRENT_LISTED);
          {
            const std::lock_guard lock(mutex_);
            queue_.push_back(std::move(listed));
          }
          Pump();
        });
  }

  // Ends the stream with `why` once what is queued is written.
  void End(absl::Status why) {
    {
      const std::lock_guard lock(mutex_);
      if (!ended_) ended_ = std::move(why);
    }
    Pump();
  }

  void OnSendInitialMetadataDone(bool) override {}

  void OnWriteDone(bool ok) override {
    {
      const std::lock_guard lock(mutex_);
      writing_ = false;
      if (!ok && !ended_) ended_ = absl::CancelledError("client gone");
    }
    Pump();
  }

  void OnCancel() override { End(absl::CancelledError("discovery cancelled")); }

  void OnDone() override {
    subscription_.reset();  // no listener call runs after this
    service_.UntrackDiscover(this);
    delete this;
  }

 private:
  // A client that reads too slowly to keep up with announcements is cut off
  // rather than holding memory for ever.
  static constexpr size_t kMaxQueued = 1000;

  posd::v1::DiscoveryEvent ToProto(const discovery::DiscoveryEvent& event) const {
    const discovery::Announcement& a = event.announcement;
    posd::v1::DiscoveryEvent out;
    switch (event.type) {
      case discovery::DiscoveryEventType::kAppeared:
        out.set_type(posd::v1::DISCOVERY_EVENT_TYPE_APPEARED);
        break;
      case discovery::DiscoveryEventType::kUpdated:
        out.set_type(posd::v1::DISCOVERY_EVENT_TYPE_UPDATED);
        break;
      case discovery::DiscoveryEventType::kVanished:
        out.set_type(posd::v1::DISCOVERY_EVENT_TYPE_VANISHED);
        break;
    }
    out.set_terminal_id(a.terminal_id);
    out.set_instance_name(a.instance_name);
    out.set_address(a.address);
    out.set_port(a.port);
    out.set_protocol_version(a.protocol_version);
    out.set_source(a.source == discovery::DiscoverySource::kDnsSd
                       ? posd::v1::DISCOVERY_SOURCE_DNS_SD
                       : posd::v1::DISCOVERY_SOURCE_BEACON);
    if (auto bound = service_.devices_.DeviceBoundTo(a.terminal_id)) out.set_device_id(*bound);
    // Announcements carry steady time; the API speaks wall time.
    const auto age = std::chrono::steady_clock::now() - a.observed_at;
    const auto wall = service_.clock_.WallNow() -
                      (a.observed_at.time_since_epoch().count() == 0
                           ? std::chrono::system_clock::duration::zero()
                           : std::chrono::duration_cast<std::chrono::system_clock::duration>(age));
    *out.mutable_observed_at() = TimeUtil::NanosecondsToTimestamp(
        std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count());
    return out;
  }

  // Starts the next write or finishes; never holds mutex_ while calling gRPC.
  void Pump() {
    posd::v1::DiscoveryEvent* to_write = nullptr;
    std::optional<absl::Status> to_finish;
    {
      const std::lock_guard lock(mutex_);
      if (writing_ || finished_) return;
      if (overflowed_ && !ended_) {
        ended_ = absl::ResourceExhaustedError("the client reads discovery events too slowly");
      }
      if (!queue_.empty() && !(ended_ && ended_->code() == absl::StatusCode::kCancelled)) {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        to_write = &current_;
      } else if (ended_) {
        finished_ = true;
        to_finish = *ended_;
      }
    }
    if (to_write != nullptr) StartWrite(to_write);
    if (to_finish.has_value()) Finish(ToGrpcStatus(*to_finish));
  }

  DeviceService& service_;
  std::unique_ptr<discovery::DiscoveryHub::Subscription> subscription_;
  std::mutex mutex_;
  std::deque<posd::v1::DiscoveryEvent> queue_;  // guarded by mutex_
  posd::v1::DiscoveryEvent current_;            // guarded by mutex_ until handed to StartWrite
  std::optional<absl::Status> ended_;           // guarded by mutex_
  bool overflowed_ = false;                     // guarded by mutex_
  bool writing_ = false;                        // guarded by mutex_
  bool finished_ = false;                       // guarded by mutex_
};

DeviceService::DeviceService(devices::DeviceManager& devices, engine::WriteRunner& writer,
                             const Clock& clock, std::string config_path)
    : ApiAdapter("posd.v1.DeviceService", nullptr),
      devices_(devices),
      writer_(writer),
      clock_(clock),
      config_path_(std::move(config_path)) {
  Unary("ListDevices", this, &DeviceService::ListDevices);
  Unary("GetDevice", this, &DeviceService::GetDevice);
  Unary("CreateDevice", this, &DeviceService::CreateDevice);
  Unary("DeleteDevice", this, &DeviceService::DeleteDevice);
  ServerStreaming("TraceDevice", this, &DeviceService::TraceDevice);
  Unary("DumpFlightRecorder", this, &DeviceService::DumpFlightRecorder);
  ServerStreaming("DiscoverDevices", this, &DeviceService::DiscoverDevices);
}

bool DeviceService::TrackDiscover(DiscoverReactor* reactor) {
  const std::lock_guard lock(mutex_);
  if (stopping_) return false;
  discovering_.insert(reactor);
  return true;
}

void DeviceService::UntrackDiscover(DiscoverReactor* reactor) {
  const std::lock_guard lock(mutex_);
  discovering_.erase(reactor);
}

bool DeviceService::Track(const std::shared_ptr<devices::TraceSubscription>& subscription) {
  const std::lock_guard lock(mutex_);
  if (stopping_) return false;
  traces_.insert(subscription);
  return true;
}

void DeviceService::Untrack(const std::shared_ptr<devices::TraceSubscription>& subscription) {
  const std::lock_guard lock(mutex_);
  traces_.erase(subscription);
}

void DeviceService::StopTracing() {
  std::set<std::shared_ptr<devices::TraceSubscription>> ending;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    ending = traces_;
    // Under mutex_, so none of them is deleted meanwhile (OnDone untracks
    // first); End only queues and may start gRPC's Finish.
    for (DiscoverReactor* reactor : discovering_) {
      reactor->End(absl::UnavailableError("posd is shutting down"));
    }
  }
  for (const auto& subscription : ending) {
    devices::TraceFanout::End(subscription, absl::UnavailableError("posd is shutting down"));
  }
}

void DeviceService::ListDevices(grpc::CallbackServerContext&,
                                const posd::v1::ListDevicesRequest& request_ref,
                                engine::Callback<posd::v1::ListDevicesResponse> done) {
  const posd::v1::ListDevicesRequest* request = &request_ref;
  posd::v1::ListDevicesResponse page;
  posd::v1::ListDevicesResponse* response = &page;
  const int page_size =
      request->page_size() == 0 ? 100 : std::min(request->page_size(), 500);
  // The token is the last id of the previous page: devices are ordered by id.
  const std::string& after = request->page_token();
  if (!after.empty() && !devices::ValidateDeviceId(after).ok()) {
    return done(WithErrorDetails(
        absl::InvalidArgumentError(StrCat("page_token ", QuoteInput(after), " is not valid")),
        ErrorDetails{.reason = ErrorReason::kInvalidPageToken,
                     .metadata = {{"field", "page_token"}}}));
  }
  for (auto& device : devices_.List()) {
    if (!after.empty() && device.id() <= after) continue;
    if (!request->states().empty() &&
        std::find(request->states().begin(), request->states().end(), device.state()) ==
            request->states().end()) {
      continue;
    }
    if (response->devices_size() == page_size) {
      response->set_next_page_token(response->devices(page_size - 1).id());
      break;
    }
    *response->add_devices() = std::move(device);
  }
  done(std::move(page));
}

void DeviceService::GetDevice(grpc::CallbackServerContext&, const posd::v1::GetDeviceRequest& request,
                              engine::Callback<posd::v1::Device> done) {
  done(devices_.Get(request.device_id(), /*with_link_stats=*/true));
}

void DeviceService::CreateDevice(grpc::CallbackServerContext& call,
                                 const posd::v1::CreateDeviceRequest& request_ref,
                                 engine::Callback<posd::v1::Device> done) {
  const posd::v1::CreateDeviceRequest* request = &request_ref;
  const grpc::CallbackServerContext* context = &call;
  if (absl::Status valid = engine::ValidateRequestId(request->request_id()); !valid.ok()) {
    return done(valid);
  }
  if (absl::Status valid = devices::ValidateDeviceId(request->device_id()); !valid.ok()) {
    return done(valid);
  }
  devices::DeviceRecord record;
  record.id = request->device_id();
  record.name = request->device().display_name();
  record.created_at_ms = NowMs(clock_);
  if (request->device().has_websocket()) {
    auto link = devices::WebSocketLinkFromProto(request->device().websocket(), record.id);
    if (!link.ok()) return done(link.status());
    record.link = devices::LinkKind::kWebSocket;
    record.websocket = *std::move(link);
  } else if (request->device().has_serial()) {
    auto settings = devices::SettingsFromProto(request->device().serial());
    if (!settings.ok()) return done(settings.status());
    record.serial = *settings;
  } else {
    return done(absl::InvalidArgumentError(
                               "device: a transport (serial or websocket) is required"));
  }
  if (absl::Status valid = devices::ValidateRecord(record); !valid.ok()) {
    return done(valid);
  }

  const engine::AuditEntry audit =
      AuditOf(*context, "create_device", record.id, "",
              record.link == devices::LinkKind::kWebSocket
                  ? StrCat("WebSocket terminal '", record.name, "' (terminal id ",
                           record.websocket.terminal_id, ") at ", devices::LinkName(record))
                  : StrCat("serial terminal '", record.name, "' on ", record.serial.port, " at ",
                           record.serial.baud, " baud"));
  posd::v1::Device created;
  created.set_id(record.id);
  created.set_display_name(record.name);
  if (record.link == devices::LinkKind::kWebSocket) {
    *created.mutable_websocket() = devices::WebSocketLinkToProto(record.websocket);
  } else {
    *created.mutable_serial() = devices::SettingsToProto(record.serial);
  }
  created.set_state(posd::v1::DEVICE_STATE_CONNECTING);
  created.set_origin(posd::v1::DEVICE_ORIGIN_API);
  *created.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(record.created_at_ms);
  bool replay = false;
  const std::string hash = engine::RequestHash(kCreateMethod, request->SerializeAsString());
  absl::Status written = writer_.RunWrite([&](store::Database& db) -> absl::Status {
    auto earlier = engine::LookupRequest(db, request->request_id(), kCreateMethod, hash);
    if (!earlier.ok()) return earlier.status();
    if (earlier->has_value()) {
      replay = true;
      return absl::OkStatus();
    }
    if (absl::Status inserted = devices::InsertDevice(db, record, record.created_at_ms);
        !inserted.ok()) {
      return inserted;
    }
    if (absl::Status recorded = engine::RecordRequest(db, request->request_id(), kCreateMethod,
                                                      hash, created.SerializeAsString(),
                                                      record.created_at_ms);
        !recorded.ok()) {
      return recorded;
    }
    return engine::AppendAudit(db, audit, record.created_at_ms);
  });
  if (!written.ok()) return done(written);
  if (!replay) {
    if (absl::Status added = devices_.Add(record); !added.ok()) {
      spdlog::error("device {} is registered but its driver did not start: {}", record.id,
                    ToStd(added.message()));
      return done(added);
    }
    spdlog::info("device {} added by {}", record.id, audit.actor);
  }
  auto current = devices_.Get(record.id, /*with_link_stats=*/false);
  done(current.ok() ? *std::move(current) : created);
}

void DeviceService::DeleteDevice(grpc::CallbackServerContext& call,
                                 const posd::v1::DeleteDeviceRequest& request_ref,
                                 engine::Callback<google::protobuf::Empty> done) {
  const posd::v1::DeleteDeviceRequest* request = &request_ref;
  const grpc::CallbackServerContext* context = &call;
  if (absl::Status valid = engine::ValidateRequestId(request->request_id()); !valid.ok()) {
    return done(valid);
  }
  const std::string& id = request->device_id();
  const std::string hash = engine::RequestHash(kDeleteMethod, request->SerializeAsString());
  // A retry of a delete that went through succeeds again, device gone or not.
  if (auto record = devices_.Record(id); record.ok()) {
    if (record->from_config) {
      return done(absl::FailedPreconditionError(
          StrCat("device ", id, " is declared in the configuration file",
                 config_path_.empty() ? "" : StrCat(" ", config_path_),
                 "; remove it there and restart posd")));
    }
    if (absl::Status removable = devices_.CheckRemovable(id); !removable.ok()) {
      return done(removable);
    }
  }
  const engine::AuditEntry audit = AuditOf(*context, "delete_device", id, request->reason(),
                                           StrCat("device ", id, " removed"));
  bool replay = false;
  const int64_t now = NowMs(clock_);
  absl::Status written = writer_.RunWrite([&](store::Database& db) -> absl::Status {
    auto earlier = engine::LookupRequest(db, request->request_id(), kDeleteMethod, hash);
    if (!earlier.ok()) return earlier.status();
    if (earlier->has_value()) {
      replay = true;
      return absl::OkStatus();
    }
    if (absl::Status unfinished = CheckNothingUnfinished(db, id); !unfinished.ok()) {
      return unfinished;
    }
    if (absl::Status deleted = devices::DeleteDevice(db, id); !deleted.ok()) return deleted;
    if (absl::Status recorded =
            engine::RecordRequest(db, request->request_id(), kDeleteMethod, hash, "", now);
        !recorded.ok()) {
      return recorded;
    }
    return engine::AppendAudit(db, audit, now);
  });
  if (!written.ok()) return done(written);
  if (!replay) {
    absl::Status removed = devices_.Remove(id);
    if (!removed.ok() && removed.code() != absl::StatusCode::kNotFound) {
      return done(removed);
    }
    spdlog::info("device {} removed by {}", id, audit.actor);
  }
  done(google::protobuf::Empty());
}

grpc::ServerWriteReactor<posd::v1::TraceEntry>* DeviceService::TraceDevice(
    grpc::CallbackServerContext*, const posd::v1::TraceDeviceRequest& request) {
  return new TraceReactor(*this, request);
}

void DeviceService::DumpFlightRecorder(grpc::CallbackServerContext&,
                                       const posd::v1::DumpFlightRecorderRequest& request_ref,
                                       engine::Callback<posd::v1::DumpFlightRecorderResponse> done) {
  const posd::v1::DumpFlightRecorderRequest* request = &request_ref;
  // max_entries >= 0: the API edge refused negative ones (request_limits.cc).
  auto entries =
      devices_.Dump(request->device_id(), static_cast<size_t>(request->max_entries()));
  if (!entries.ok()) return done(entries.status());
  posd::v1::DumpFlightRecorderResponse dump;
  posd::v1::DumpFlightRecorderResponse* response = &dump;
  response->set_device_id(request->device_id());
  response->set_capacity(static_cast<uint32_t>(devices_.recorder_capacity()));
  *response->mutable_dumped_at() = TimeUtil::MillisecondsToTimestamp(NowMs(clock_));
  for (auto& entry : *entries) {
    if (!request->include_payload()) entry.clear_payload();
    *response->add_entries() = std::move(entry);
  }
  done(std::move(dump));
}

grpc::ServerWriteReactor<posd::v1::DiscoveryEvent>* DeviceService::DiscoverDevices(
    grpc::CallbackServerContext* context, const posd::v1::DiscoverDevicesRequest& request) {
  if (hub_ == nullptr) {
    return new RefusedWriter<posd::v1::DiscoveryEvent>(
        ToGrpcStatus(absl::UnavailableError("this posd runs without discovery")));
  }
  return new DiscoverReactor(*this, *context, request);
}

}  // namespace posd::api
