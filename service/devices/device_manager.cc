#include "service/devices/device_manager.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>

#include "service/common/strings.h"
#include "spdlog/spdlog.h"

namespace posd::devices {

struct DeviceManager::Guard {
  explicit Guard(boost::asio::io_context& io) : guard(boost::asio::make_work_guard(io)) {}
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard;
};

absl::StatusOr<std::unique_ptr<DeviceManager>> DeviceManager::Create(
    DeviceManagerOptions options) {
  if (absl::Status valid = channel::ValidateTerminalChannelOptions(options.channel); !valid.ok()) {
    return valid;
  }
  std::unique_ptr<DeviceManager> manager(new DeviceManager(std::move(options)));
  std::promise<std::thread::id> started;
  auto started_id = started.get_future();
  manager->thread_ = std::thread([m = manager.get(), &started] {
    started.set_value(std::this_thread::get_id());
    m->io_->run();
  });
  manager->io_thread_id_ = started_id.get();
  return manager;
}

DeviceManager::DeviceManager(DeviceManagerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock::Get()),
      io_(std::make_unique<boost::asio::io_context>(1)),
      work_guard_(std::make_unique<Guard>(*io_)) {}

DeviceManager::~DeviceManager() { Stop(); }

void DeviceManager::Stop() {
  std::map<std::string, std::shared_ptr<DeviceDriver>, std::less<>> drivers;
  {
    const std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    drivers.swap(drivers_);
  }
  // Closing runs on the io thread: the links live there.
  std::promise<void> closed;
  boost::asio::post(*io_, [&drivers, &closed] {
    for (auto& [id, driver] : drivers) {
      driver->Close(posd::v1::DEVICE_STATE_REASON_SHUTDOWN,
                    absl::CancelledError("posd is shutting down"));
    }
    closed.set_value();
  });
  closed.get_future().wait();
  work_guard_.reset();
  io_->stop();
  if (thread_.joinable()) thread_.join();
  drivers.clear();
  spdlog::info("terminal links closed");
}

absl::Status DeviceManager::RunOnIo(const std::function<absl::Status()>& work) {
  if (std::this_thread::get_id() == io_thread_id_) return work();
  auto task = std::make_shared<std::packaged_task<absl::Status()>>(work);
  auto result = task->get_future();
  {
    // Posting under the lock that Stop() takes to set stopped_ puts every
    // accepted task ahead of Stop's closing task on the io thread, so it runs
    // before the thread ends and this wait always returns.
    const std::lock_guard lock(mutex_);
    if (stopped_) return absl::UnavailableError("posd's terminal links are shut down");
    boost::asio::post(*io_, [task] { (*task)(); });
  }
  return result.get();
}

absl::Status DeviceManager::Add(const DeviceRecord& record, channel::ByteStreamOpener opener) {
  if (absl::Status valid = ValidateRecord(record); !valid.ok()) return valid;
  return RunOnIo([&]() -> absl::Status {
    {
      const std::lock_guard lock(mutex_);
      if (stopped_) return absl::UnavailableError("posd's terminal links are shut down");
      if (drivers_.contains(record.id)) {
        return absl::AlreadyExistsError(StrCat("device ", record.id, " already runs"));
      }
    }
    DeviceDriverOptions options;
    options.record = record;
    options.channel = options_.channel;
    options.link = options_.link;
    options.websocket = options_.websocket;
    options.tls_ca_file = options_.tls_ca_file;
    options.recorder_capacity = options_.recorder_capacity;
    options.opener = std::move(opener);
    auto driver = DeviceDriver::Create(*io_, std::move(options), events_, clock_);
    if (!driver.ok()) return driver.status();
    std::shared_ptr<DeviceDriver> shared = *std::move(driver);
    {
      const std::lock_guard lock(mutex_);
      drivers_.emplace(record.id, shared);
    }
    if (record.link == LinkKind::kWebSocket) {
      // Announced before the device was added: start where it is.
      auto seen = announced_.find(record.websocket.terminal_id);
      if (seen != announced_.end()) shared->OnAnnouncement(seen->second);
    }
    shared->Start();
    spdlog::info("terminal {} ({}) on {}", record.id, record.name, LinkName(record));
    return absl::OkStatus();
  });
}

absl::Status DeviceManager::RunOnIoThread(
    const std::function<absl::Status(boost::asio::io_context&)>& work) {
  return RunOnIo([&] { return work(*io_); });
}

void DeviceManager::OnDiscoveryEvent(const discovery::DiscoveryEvent& event) {
  const std::lock_guard lock(mutex_);
  if (stopped_) return;
  boost::asio::post(*io_, [this, event] { ApplyDiscoveryEvent(event); });
}

void DeviceManager::ApplyDiscoveryEvent(const discovery::DiscoveryEvent& event) {
  const discovery::Announcement& announcement = event.announcement;
  if (event.type == discovery::DiscoveryEventType::kVanished) {
    // Nothing to do for its device: it keeps trying where it was last seen.
    announced_.erase(announcement.terminal_id);
    return;
  }
  announced_[announcement.terminal_id] = announcement;
  std::vector<std::shared_ptr<DeviceDriver>> bound;
  UnboundTerminalObserver unbound;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, driver] : drivers_) {
      if (driver->record().link == LinkKind::kWebSocket &&
          driver->record().websocket.terminal_id == announcement.terminal_id) {
        bound.push_back(driver);
      }
    }
    if (bound.empty()) unbound = unbound_observer_;
  }
  for (const auto& driver : bound) driver->OnAnnouncement(announcement);
  if (unbound) unbound(announcement);
}

std::optional<std::string> DeviceManager::DeviceBoundTo(std::string_view terminal_id) const {
  const std::lock_guard lock(mutex_);
  for (const auto& [id, driver] : drivers_) {
    if (driver->record().link == LinkKind::kWebSocket &&
        driver->record().websocket.terminal_id == terminal_id) {
      return id;
    }
  }
  return std::nullopt;
}

void DeviceManager::SetUnboundTerminalObserver(UnboundTerminalObserver observer) {
  const std::lock_guard lock(mutex_);
  unbound_observer_ = std::move(observer);
}

absl::Status DeviceManager::Remove(std::string_view id) {
  return RunOnIo([&]() -> absl::Status {
    std::shared_ptr<DeviceDriver> driver;
    {
      const std::lock_guard lock(mutex_);
      auto it = drivers_.find(id);
      if (it == drivers_.end()) return absl::NotFoundError(StrCat("no device ", id));
      driver = std::move(it->second);
      drivers_.erase(it);
    }
    driver->Close(posd::v1::DEVICE_STATE_REASON_REMOVED,
                  absl::NotFoundError(StrCat("device ", id, " was removed")));
    spdlog::info("terminal {} removed", id);
    return absl::OkStatus();
  });
}

absl::Status DeviceManager::CheckRemovable(std::string_view id) const {
  auto driver = Find(id);
  if (driver == nullptr) return absl::NotFoundError(StrCat("no device ", id));
  if (driver->in_flight() > 0) {
    return absl::FailedPreconditionError(
        StrCat("device ", id, " has ", driver->in_flight(),
               " transaction(s) whose outcome posd is still learning; remove it once they "
               "finish"));
  }
  return absl::OkStatus();
}

std::shared_ptr<DeviceDriver> DeviceManager::Find(std::string_view id) const {
  const std::lock_guard lock(mutex_);
  auto it = drivers_.find(id);
  return it == drivers_.end() ? nullptr : it->second;
}

std::vector<posd::v1::Device> DeviceManager::List() const {
  std::vector<std::shared_ptr<DeviceDriver>> drivers;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, driver] : drivers_) drivers.push_back(driver);
  }
  std::vector<posd::v1::Device> devices;
  for (const auto& driver : drivers) devices.push_back(driver->Snapshot(false));
  return devices;
}

absl::StatusOr<posd::v1::Device> DeviceManager::Get(std::string_view id,
                                                    bool with_link_stats) const {
  auto driver = Find(id);
  if (driver == nullptr) return absl::NotFoundError(StrCat("no device ", id));
  return driver->Snapshot(with_link_stats);
}

absl::StatusOr<DeviceRecord> DeviceManager::Record(std::string_view id) const {
  auto driver = Find(id);
  if (driver == nullptr) return absl::NotFoundError(StrCat("no device ", id));
  return driver->record();
}

absl::StatusOr<TraceHandle> DeviceManager::Trace(std::string_view id,
                                                 std::vector<posd::v1::TraceKind> kinds,
                                                 std::function<void()> wake) {
  auto driver = Find(id);
  if (driver == nullptr) return absl::NotFoundError(StrCat("no device ", id));
  TraceHandle handle;
  handle.fanout = driver->fanout();
  handle.subscription = handle.fanout->Subscribe(std::move(kinds), std::move(wake));
  return handle;
}

absl::StatusOr<std::vector<posd::v1::TraceEntry>> DeviceManager::Dump(std::string_view id,
                                                                      size_t max_entries) const {
  auto driver = Find(id);
  if (driver == nullptr) return absl::NotFoundError(StrCat("no device ", id));
  return driver->recorder().Snapshot(max_entries);
}

absl::Status DeviceManager::CheckReady(std::string_view device_id) {
  auto driver = Find(device_id);
  if (driver == nullptr) {
    return absl::NotFoundError(StrCat("no terminal named ", device_id, " is registered"));
  }
  return driver->CheckReady();
}

absl::Status DeviceManager::OnDriver(std::string_view id,
                                     const std::function<absl::Status(DeviceDriver&)>& work) {
  auto driver = Find(id);
  if (driver == nullptr) {
    return absl::NotFoundError(StrCat("no terminal named ", id, " is registered"));
  }
  return RunOnIo([&] { return work(*driver); });
}

absl::Status DeviceManager::StartSale(const engine::SaleRequest& request) {
  return OnDriver(request.device_id, [&](DeviceDriver& d) { return d.StartSale(request); });
}

absl::Status DeviceManager::StartRefund(const engine::RefundRequest& request) {
  return OnDriver(request.device_id, [&](DeviceDriver& d) { return d.StartRefund(request); });
}

absl::Status DeviceManager::Cancel(std::string_view device_id, std::string_view transaction_id) {
  return OnDriver(device_id, [&](DeviceDriver& d) { return d.Cancel(transaction_id); });
}

absl::Status DeviceManager::QueryStatus(std::string_view device_id,
                                        std::string_view transaction_id) {
  return OnDriver(device_id, [&](DeviceDriver& d) { return d.QueryStatus(transaction_id); });
}

}  // namespace posd::devices
