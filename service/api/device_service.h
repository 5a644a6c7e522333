// DeviceService: the terminals posd holds links to (posd.v1.DeviceService).
//
// Served behind the API edge (api_adapter.h), which parses, authorizes and
// validates every request. Reads (list, get, dump) come from the
// DeviceManager's in-memory state. Changes (create, delete) need the
// operator role (method_roles.cc); each is one write on
// posd's only write connection, through the engine (engine::WriteRunner): the
// registry row, the request journal entry (idempotency) and the audit record
// commit together, and only then does the manager start or stop the driver.
// TraceDevice is a write reactor per stream (no thread per stream) fed by the
// device's trace fan-out; it ends with NOT_FOUND when the device is removed
// and with UNAVAILABLE when posd shuts down (StopTracing).
//
// DiscoverDevices streams the discovery hub's merged events (one write
// reactor per stream, like TraceDevice), each with the device bound to the
// terminal id; a discovery source that cannot work (a beacon port that
// cannot be bound) is named in the stream's initial metadata, one
// "posd-discovery-problem" entry each. Without a hub it answers UNAVAILABLE.
//
// Thread-safe. `devices`, `writer` and `clock` must outlive the service and
// every stream (the server's Shutdown waits for streams, and StopTracing
// ends them first).
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "posd/v1/devices.pb.h"
#include "service/api/api_adapter.h"
#include "service/common/clock.h"
#include "service/devices/device_manager.h"
#include "service/discovery/discovery_hub.h"
#include "service/engine/request_journal.h"

namespace posd::api {

class DeviceService final : public ApiAdapter {
 public:
  DeviceService(devices::DeviceManager& devices, engine::WriteRunner& writer, const Clock& clock,
                std::string config_path);

  void ListDevices(grpc::CallbackServerContext& context, const posd::v1::ListDevicesRequest& request,
                   engine::Callback<posd::v1::ListDevicesResponse> done);
  void GetDevice(grpc::CallbackServerContext& context, const posd::v1::GetDeviceRequest& request,
                 engine::Callback<posd::v1::Device> done);
  void CreateDevice(grpc::CallbackServerContext& context,
                    const posd::v1::CreateDeviceRequest& request,
                    engine::Callback<posd::v1::Device> done);
  void DeleteDevice(grpc::CallbackServerContext& context,
                    const posd::v1::DeleteDeviceRequest& request,
                    engine::Callback<google::protobuf::Empty> done);
  grpc::ServerWriteReactor<posd::v1::TraceEntry>* TraceDevice(
      grpc::CallbackServerContext* context, const posd::v1::TraceDeviceRequest& request);
  void DumpFlightRecorder(grpc::CallbackServerContext& context,
                          const posd::v1::DumpFlightRecorderRequest& request,
                          engine::Callback<posd::v1::DumpFlightRecorderResponse> done);
  grpc::ServerWriteReactor<posd::v1::DiscoveryEvent>* DiscoverDevices(
      grpc::CallbackServerContext* context, const posd::v1::DiscoverDevicesRequest& request);

  // Where DiscoverDevices reads from; set before the server starts. The hub
  // must outlive every stream (StopTracing ends them).
  void SetDiscovery(discovery::DiscoveryHub* hub) { hub_ = hub; }

  // Ends every trace and discovery stream now (UNAVAILABLE) and refuses new
  // ones; for the start of shutdown, so the server's drain does not wait.
  void StopTracing();

  // The initial-metadata key naming a discovery source that cannot work.
  static constexpr char kDiscoveryProblemKey[] = "posd-discovery-problem";

 private:
  class TraceReactor;
  friend class TraceReactor;
  class DiscoverReactor;
  friend class DiscoverReactor;
  bool TrackDiscover(DiscoverReactor* reactor);
  void UntrackDiscover(DiscoverReactor* reactor);
  bool Track(const std::shared_ptr<devices::TraceSubscription>& subscription);
  void Untrack(const std::shared_ptr<devices::TraceSubscription>& subscription);

  devices::DeviceManager& devices_;
  engine::WriteRunner& writer_;
  const Clock& clock_;
  const std::string config_path_;
  std::mutex mutex_;
  std::set<std::shared_ptr<devices::TraceSubscription>> traces_;  // guarded by mutex_
  std::set<DiscoverReactor*> discovering_;                        // guarded by mutex_
  discovery::DiscoveryHub* hub_ = nullptr;
  bool stopping_ = false;                                         // guarded by mutex_
};

}  // namespace posd::api
