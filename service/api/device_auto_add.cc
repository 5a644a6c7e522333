#include "service/api/device_auto_add.h"

#include "service/common/strings.h"
#include "service/devices/device_registry.h"
#include "spdlog/spdlog.h"

namespace posd::api {

DeviceAutoAdder::DeviceAutoAdder(devices::DeviceManager& devices, engine::WriteRunner& writer,
                                 const Clock& clock)
    : devices_(devices), writer_(writer), clock_(clock), worker_([this] { Run(); }) {}

DeviceAutoAdder::~DeviceAutoAdder() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void DeviceAutoAdder::Offer(const discovery::Announcement& announcement) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ || !offered_.insert(announcement.terminal_id).second) return;
    queue_.push_back(announcement);
  }
  wake_.notify_one();
}

void DeviceAutoAdder::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const discovery::Announcement announcement = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    if (absl::Status added = Register(announcement); !added.ok()) {
      spdlog::warn("auto_add: terminal {} not registered: {}", announcement.terminal_id,
                   ToStd(added.message()));
    }
    lock.lock();
  }
}

absl::Status DeviceAutoAdder::Register(const discovery::Announcement& announcement) {
  const std::string& terminal_id = announcement.terminal_id;
  if (absl::Status valid = devices::ValidateDeviceId(terminal_id, "terminal id"); !valid.ok()) {
    return valid;
  }
  if (auto bound = devices_.DeviceBoundTo(terminal_id)) {
    return absl::AlreadyExistsError(StrCat("device ", *bound, " is bound to it"));
  }
  if (devices_.Record(terminal_id).ok()) {
    return absl::AlreadyExistsError(
        StrCat("device id ", terminal_id, " is taken by a device bound to another terminal"));
  }
  devices::DeviceRecord record;
  record.id = terminal_id;
  record.name = StrCat("Terminal ", terminal_id);
  record.link = devices::LinkKind::kWebSocket;
  record.websocket.terminal_id = terminal_id;
  record.websocket.endpoint = {.host = "", .port = 0, .path = announcement.path};
  record.websocket.tls = announcement.tls;
  record.created_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             clock_.WallNow().time_since_epoch())
                             .count();
  if (absl::Status valid = devices::ValidateRecord(record); !valid.ok()) return valid;
  const engine::AuditEntry audit{
      .actor = "posd",
      .role = "system",
      // A device creation like CreateDevice's; the actor and the reason say
      // that posd itself did it, for the configuration.
      .action = "create_device",
      .subject = record.id,
      .reason = "discovery.auto_add",
      .details = StrCat("WebSocket terminal ", terminal_id, " announced at ",
                        announcement.address, ":", announcement.port, " (",
                        discovery::DiscoverySourceName(announcement.source),
                        "); follows discovery")};
  absl::Status written = writer_.RunWrite([&](store::Database& db) -> absl::Status {
    if (absl::Status inserted = devices::InsertDevice(db, record, record.created_at_ms);
        !inserted.ok()) {
      return inserted;
    }
    return engine::AppendAudit(db, audit, record.created_at_ms);
  });
  if (!written.ok()) return written;
  if (absl::Status added = devices_.Add(record); !added.ok()) {
    spdlog::error("auto_add: device {} is registered but its driver did not start: {}", record.id,
                  ToStd(added.message()));
    return added;
  }
  spdlog::info("auto_add: terminal {} registered as a WebSocket device", terminal_id);
  return absl::OkStatus();
}

}  // namespace posd::api
