#include "service/devices/terminal_follower.h"

#include <algorithm>

#include "service/common/strings.h"

namespace posd::devices {

TerminalFollower::TerminalFollower(websocket::Endpoint configured)
    : configured_(std::move(configured)) {}

std::string TerminalFollower::Key(const websocket::Endpoint& endpoint) {
  return StrCat(endpoint.host, "|", endpoint.port, "|", endpoint.path);
}

void TerminalFollower::Remember(const websocket::Endpoint& announced) {
  std::erase(recent_, announced);
  recent_.insert(recent_.begin(), announced);
  if (recent_.size() > kMaxRecent) recent_.resize(kMaxRecent);
  // Announced again: whoever answered there before may have gone.
  refused_.erase(Key(announced));
}

std::optional<TerminalFollower::Move> TerminalFollower::OnAnnounced(
    const websocket::Endpoint& announced, bool linked) {
  Remember(announced);
  if (linked) return std::nullopt;
  return Move{.endpoint = announced, .now = true};
}

std::optional<TerminalFollower::Move> TerminalFollower::OnAttemptFailed(
    const websocket::Endpoint& at) {
  auto next = NextAfter(at);
  if (!next) return std::nullopt;
  return Move{.endpoint = *next, .now = false};
}

std::optional<TerminalFollower::Move> TerminalFollower::OnWrongTerminal(
    const websocket::Endpoint& at) {
  refused_.insert(Key(at));
  auto next = NextAfter(at);
  if (!next) return std::nullopt;
  return Move{.endpoint = *next, .now = false};
}

void TerminalFollower::OnLinked(const websocket::Endpoint& at) { refused_.erase(Key(at)); }

std::optional<TerminalFollower::Move> TerminalFollower::OnLinkLost(const websocket::Endpoint& at) {
  if (recent_.empty() || recent_.front() == at || IsRefused(recent_.front())) return std::nullopt;
  return Move{.endpoint = recent_.front(), .now = true};
}

std::optional<websocket::Endpoint> TerminalFollower::Initial() const {
  if (!recent_.empty()) return recent_.front();
  if (!configured_.host.empty()) return configured_;
  return std::nullopt;
}

std::vector<websocket::Endpoint> TerminalFollower::Candidates() const {
  std::vector<websocket::Endpoint> out = recent_;
  if (!configured_.host.empty() && std::find(out.begin(), out.end(), configured_) == out.end()) {
    out.push_back(configured_);
  }
  return out;
}

bool TerminalFollower::IsRefused(const websocket::Endpoint& endpoint) const {
  return refused_.contains(Key(endpoint));
}

std::optional<websocket::Endpoint> TerminalFollower::NextAfter(
    const websocket::Endpoint& at) const {
  std::vector<websocket::Endpoint> all = Candidates();
  std::vector<websocket::Endpoint> usable;
  for (const auto& candidate : all) {
    if (!IsRefused(candidate) || candidate == at) usable.push_back(candidate);
  }
  // Everything else refused: keep trying where we are (with backoff); the
  // terminal may come back there.
  auto found = std::find(usable.begin(), usable.end(), at);
  if (found == usable.end()) {
    if (usable.empty()) return std::nullopt;
    return usable.front();
  }
  for (size_t step = 1; step < usable.size(); ++step) {
    const auto& next = usable[(static_cast<size_t>(found - usable.begin()) + step) % usable.size()];
    if (!IsRefused(next)) return next;
  }
  return std::nullopt;
}

}  // namespace posd::devices
