#include "service/devices/trace_fanout.h"

#include <algorithm>

namespace posd::devices {

TraceSubscription::TraceSubscription(size_t max_queued, std::vector<posd::v1::TraceKind> kinds,
                                     std::function<void()> wake)
    : max_queued_(std::max<size_t>(max_queued, 1)), kinds_(std::move(kinds)),
      wake_(std::move(wake)) {}

std::optional<posd::v1::TraceEntry> TraceSubscription::TryPop() {
  const std::lock_guard lock(mutex_);
  if (queue_.empty()) return std::nullopt;
  posd::v1::TraceEntry entry = std::move(queue_.front());
  queue_.pop_front();
  return entry;
}

absl::Status TraceSubscription::ended() const {
  const std::lock_guard lock(mutex_);
  return ended_;
}

bool TraceSubscription::has_ended() const {
  const std::lock_guard lock(mutex_);
  return has_ended_;
}

bool TraceSubscription::Offer(const posd::v1::TraceEntry& entry) {
  if (!kinds_.empty() && std::find(kinds_.begin(), kinds_.end(), entry.kind()) == kinds_.end()) {
    return false;
  }
  const std::lock_guard lock(mutex_);
  if (has_ended_) return false;
  if (queue_.size() >= max_queued_) {
    ++dropped_;
    return false;
  }
  queue_.push_back(entry);
  queue_.back().set_dropped_before(dropped_);
  dropped_ = 0;
  return queue_.size() == 1;
}

bool TraceSubscription::End(absl::Status why) {
  const std::lock_guard lock(mutex_);
  if (has_ended_) return false;
  has_ended_ = true;
  ended_ = std::move(why);
  return true;
}

void TraceSubscription::Wake() {
  std::function<void()> wake;
  {
    const std::lock_guard lock(mutex_);
    if (!wake_) return;
    wake = wake_;
    ++waking_;
  }
  wake();
  const std::lock_guard lock(mutex_);
  if (--waking_ == 0) idle_.notify_all();
}

void TraceSubscription::Detach() {
  std::unique_lock lock(mutex_);
  wake_ = nullptr;
  idle_.wait(lock, [this] { return waking_ == 0; });
}

std::shared_ptr<TraceSubscription> TraceFanout::Subscribe(std::vector<posd::v1::TraceKind> kinds,
                                                          std::function<void()> wake,
                                                          size_t max_queued) {
  auto subscription =
      std::make_shared<TraceSubscription>(max_queued, std::move(kinds), std::move(wake));
  absl::Status already_ended;
  {
    const std::lock_guard lock(mutex_);
    if (!ended_) {
      subscriptions_.push_back(subscription);
      return subscription;
    }
    already_ended = ended_why_;
  }
  subscription->End(already_ended);
  return subscription;
}

void TraceFanout::Unsubscribe(const std::shared_ptr<TraceSubscription>& subscription) {
  {
    const std::lock_guard lock(mutex_);
    std::erase(subscriptions_, subscription);
  }
  subscription->Detach();
}

void TraceFanout::Publish(const posd::v1::TraceEntry& entry) {
  for (const auto& subscription : Copy()) {
    if (subscription->Offer(entry)) subscription->Wake();
  }
}

void TraceFanout::End(const std::shared_ptr<TraceSubscription>& subscription,
                      const absl::Status& why) {
  if (subscription->End(why)) subscription->Wake();
}

void TraceFanout::EndAll(const absl::Status& why) {
  std::vector<std::shared_ptr<TraceSubscription>> ending;
  {
    const std::lock_guard lock(mutex_);
    ended_ = true;
    ended_why_ = why;
    ending.swap(subscriptions_);
  }
  for (const auto& subscription : ending) {
    if (subscription->End(why)) subscription->Wake();
  }
}

size_t TraceFanout::subscriber_count() const {
  const std::lock_guard lock(mutex_);
  return subscriptions_.size();
}

std::vector<std::shared_ptr<TraceSubscription>> TraceFanout::Copy() const {
  const std::lock_guard lock(mutex_);
  return subscriptions_;
}

}  // namespace posd::devices
