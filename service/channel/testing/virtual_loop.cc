#include "service/channel/testing/virtual_loop.h"

namespace posd::channel::testing {
namespace {

class VirtualTimer final : public Timer {
 public:
  explicit VirtualTimer(VirtualLoop& loop) : loop_(loop) {}
  ~VirtualTimer() override { Cancel(); }
  void ArmAt(TimePoint deadline, std::function<void()> fire) override {
    Cancel();
    task_ = loop_.ScheduleAt(deadline, [this, fire = std::move(fire)] {
      task_ = 0;
      fire();
    });
  }
  void Cancel() override {
    if (task_ != 0) loop_.CancelTask(task_);
    task_ = 0;
  }

 private:
  VirtualLoop& loop_;
  uint64_t task_ = 0;
};

}  // namespace

uint64_t VirtualLoop::ScheduleAt(TimePoint when, std::function<void()> task) {
  if (when < now()) when = now();
  const uint64_t id = next_id_++;
  tasks_.emplace(Key{when, id}, std::move(task));
  when_[id] = when;
  return id;
}

void VirtualLoop::CancelTask(uint64_t id) {
  auto it = when_.find(id);
  if (it == when_.end()) return;
  tasks_.erase(Key{it->second, id});
  when_.erase(it);
}

bool VirtualLoop::RunOne(TimePoint limit) {
  if (tasks_.empty()) return false;
  auto it = tasks_.begin();
  if (it->first.first > limit) return false;
  if (it->first.first > now()) clock_.Advance(it->first.first - now());
  std::function<void()> task = std::move(it->second);
  when_.erase(it->first.second);
  tasks_.erase(it);
  task();
  return true;
}

bool VirtualLoop::RunUntil(const std::function<bool()>& done, Duration limit) {
  const TimePoint end = now() + limit;
  while (true) {
    if (done && done()) return true;
    if (!RunOne(end)) {
      if (now() < end) clock_.Advance(end - now());
      return done && done();
    }
  }
}

void VirtualLoop::RunFor(Duration span) { RunUntil({}, span); }

std::unique_ptr<Timer> VirtualLoop::CreateTimer() { return std::make_unique<VirtualTimer>(*this); }

}  // namespace posd::channel::testing
