#include "service/discovery/discovery_hub.h"

#include <algorithm>
#include <optional>

#include "service/common/strings.h"

namespace posd::discovery {

struct DiscoveryHub::Subscription::Entry {
  explicit Entry(Listener l) : listener(std::move(l)) {}
  Listener listener;
  // Recursive: a listener may end its own subscription from inside a call.
  std::recursive_mutex mutex;
  bool active = true;  // guarded by mutex
};

DiscoveryHub::Subscription::~Subscription() { hub_.Unsubscribe(entry_); }

void DiscoveryHub::Unsubscribe(const std::shared_ptr<Subscription::Entry>& entry) {
  {
    const std::lock_guard lock(mutex_);
    std::erase(subscribers_, entry);
  }
  // Waits for a call in progress on another thread.
  const std::lock_guard lock(entry->mutex);
  entry->active = false;
}

DiscoveredTerminal DiscoveryHub::ViewOf(const Terminal& terminal) {
  DiscoveredTerminal view{.current = terminal.current, .sources = {}};
  for (const auto& [source, announcement] : terminal.by_source) view.sources.push_back(source);
  return view;
}

void DiscoveryHub::OnDiscoveryEvent(const DiscoveryEvent& event) {
  const std::lock_guard delivery(delivery_mutex_);
  std::optional<DiscoveryEvent> merged;
  {
    const std::lock_guard lock(mutex_);
    const Announcement& seen = event.announcement;
    if (event.type == DiscoveryEventType::kVanished) {
      auto found = terminals_.find(seen.terminal_id);
      if (found == terminals_.end()) return;
      Terminal& terminal = found->second;
      if (terminal.by_source.erase(seen.source) == 0) return;
      if (terminal.by_source.empty()) {
        merged = DiscoveryEvent{.type = DiscoveryEventType::kVanished,
                                .announcement = terminal.current};
        terminals_.erase(found);
      } else {
        // Another source still sees it: it stays, at the newest place left.
        const Announcement* newest = nullptr;
        for (const auto& [source, announcement] : terminal.by_source) {
          if (newest == nullptr || announcement.observed_at > newest->observed_at) {
            newest = &announcement;
          }
        }
        const bool moved = !newest->SameTarget(terminal.current);
        terminal.current = *newest;
        if (moved) {
          merged = DiscoveryEvent{.type = DiscoveryEventType::kUpdated,
                                  .announcement = terminal.current};
        }
      }
    } else {
      auto [found, inserted] = terminals_.try_emplace(seen.terminal_id);
      Terminal& terminal = found->second;
      terminal.by_source[seen.source] = seen;
      // What a source reports now is the newest news of this terminal.
      const bool moved = inserted || !seen.SameTarget(terminal.current);
      terminal.current = seen;
      if (moved) {
        merged = DiscoveryEvent{
            .type = inserted ? DiscoveryEventType::kAppeared : DiscoveryEventType::kUpdated,
            .announcement = seen};
      }
    }
  }
  if (merged) Deliver(*merged);
}

void DiscoveryHub::Deliver(const DiscoveryEvent& event) {
  std::vector<std::shared_ptr<Subscription::Entry>> subscribers;
  {
    const std::lock_guard lock(mutex_);
    subscribers = subscribers_;
  }
  for (const auto& entry : subscribers) {
    const std::lock_guard lock(entry->mutex);
    if (entry->active) entry->listener(event);
  }
}

std::unique_ptr<DiscoveryHub::Subscription> DiscoveryHub::Subscribe(
    Listener listener, bool include_current, const std::function<void()>& current_listed) {
  const std::lock_guard delivery(delivery_mutex_);
  auto entry = std::make_shared<Subscription::Entry>(std::move(listener));
  std::vector<DiscoveryEvent> current;
  {
    const std::lock_guard lock(mutex_);
    if (include_current) {
      for (const auto& [id, terminal] : terminals_) {
        current.push_back(
            DiscoveryEvent{.type = DiscoveryEventType::kAppeared, .announcement = terminal.current});
      }
    }
    subscribers_.push_back(entry);
  }
  {
    const std::lock_guard lock(entry->mutex);
    for (const DiscoveryEvent& event : current) {
      if (entry->active) entry->listener(event);
    }
  }
  if (include_current && current_listed) current_listed();
  return std::unique_ptr<Subscription>(new Subscription(*this, std::move(entry)));
}

std::vector<DiscoveredTerminal> DiscoveryHub::Current() const {
  const std::lock_guard lock(mutex_);
  std::vector<DiscoveredTerminal> out;
  for (const auto& [id, terminal] : terminals_) out.push_back(ViewOf(terminal));
  return out;
}

void DiscoveryHub::SetSourceProblem(DiscoverySource source, std::string problem) {
  const std::lock_guard lock(mutex_);
  if (problem.empty()) {
    problems_.erase(source);
  } else {
    problems_[source] = std::move(problem);
  }
}

std::vector<std::string> DiscoveryHub::SourceProblems() const {
  const std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [source, problem] : problems_) {
    out.push_back(StrCat(DiscoverySourceName(source), ": ", problem));
  }
  return out;
}

}  // namespace posd::discovery
