// Where a WebSocket device looks for its terminal: the policy that follows a
// terminal moving between addresses (DHCP, access points, reboots) by its
// announcements, without ever being stranded by a stale one.
//
// It keeps the candidates: the few most recently announced endpoints of the
// device's terminal id, newest first, then the configured address (if any).
// The driver tells it what happens and applies the moves it returns to its
// WebSocketClientTransport:
//   - an announcement while linked (up and handshake done) is remembered as
//     the next place to try, and the connection kept;
//   - an announcement while not linked is tried at once;
//   - a failed attempt moves on to the next candidate (after the transport's
//     backoff), so a stale announcement of an old address costs one attempt;
//   - a terminal answering with another id is refused there: that endpoint
//     is skipped until it is announced again;
//   - a lost link goes straight to the newest announcement, if it differs.
//
// Pure logic, no I/O; thread-compatible (the driver uses it on the io thread).
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "service/websocket/websocket_options.h"

namespace posd::devices {

class TerminalFollower {
 public:
  // How many announced endpoints are remembered besides the configured one.
  static constexpr size_t kMaxRecent = 4;

  // What to do with the transport: point it at `endpoint`, abandoning the
  // current attempt or backoff when `now` (else at its next attempt).
  struct Move {
    websocket::Endpoint endpoint;
    bool now = false;
    bool operator==(const Move&) const = default;
  };

  // `configured`: the device's fixed address; an empty host means it follows
  // discovery alone.
  explicit TerminalFollower(websocket::Endpoint configured);

  // The terminal announced `announced`. `linked`: the link is up and healthy.
  std::optional<Move> OnAnnounced(const websocket::Endpoint& announced, bool linked);
  // An attempt at `at` failed before the handshake completed.
  std::optional<Move> OnAttemptFailed(const websocket::Endpoint& at);
  // The terminal at `at` answered with another id.
  std::optional<Move> OnWrongTerminal(const websocket::Endpoint& at);
  // The handshake at `at` completed with the right terminal.
  void OnLinked(const websocket::Endpoint& at);
  // The link at `at` was lost.
  std::optional<Move> OnLinkLost(const websocket::Endpoint& at);

  // Where to start: the newest announcement, else the configured address;
  // none when neither exists yet (the device waits for an announcement).
  std::optional<websocket::Endpoint> Initial() const;
  // Every candidate, newest announcement first, the configured one last.
  std::vector<websocket::Endpoint> Candidates() const;
  bool IsRefused(const websocket::Endpoint& endpoint) const;

 private:
  static std::string Key(const websocket::Endpoint& endpoint);
  // The candidate after `at` in the rotation, skipping refused ones unless
  // all are; none when there is nowhere else to go.
  std::optional<websocket::Endpoint> NextAfter(const websocket::Endpoint& at) const;
  void Remember(const websocket::Endpoint& announced);

  const websocket::Endpoint configured_;
  std::vector<websocket::Endpoint> recent_;  // newest first, at most kMaxRecent
  std::set<std::string> refused_;            // Key()s where another terminal answered
};

}  // namespace posd::devices
