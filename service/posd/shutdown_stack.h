// The stop actions of posd's parts, run in the reverse order of their starts.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace posd {

// Each start-up step that starts something pushes how to stop it; RunAll
// (or the destructor) stops everything last-started-first, so a part always
// stops while everything it uses still runs, and a start that fails halfway
// stops exactly what had started. Not thread-safe: the main thread owns it.
class ShutdownStack {
 public:
  ShutdownStack() = default;
  ~ShutdownStack() { RunAll(); }
  ShutdownStack(const ShutdownStack&) = delete;
  ShutdownStack& operator=(const ShutdownStack&) = delete;

  // `stop` must not throw; `what` names it for readers of the code and logs.
  void Push(std::string what, std::function<void()> stop) {
    stops_.push_back({std::move(what), std::move(stop)});
  }

  void RunAll() {
    while (!stops_.empty()) {
      auto stop = std::move(stops_.back().second);
      stops_.pop_back();
      stop();
    }
  }

 private:
  std::vector<std::pair<std::string, std::function<void()>>> stops_;
};

}  // namespace posd
