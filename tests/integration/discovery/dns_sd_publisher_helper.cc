// A terminal's DNS-SD announcement and nothing else, for the discovery tests:
// runs one AvahiPublisher inside the terminal's namespace (a test process
// cannot: libdbus and Avahi reach one system bus per process).
//
//   dns_sd_publisher_helper NAME ID ADDRESS PORT [MOVE_ADDRESS MOVE_PORT]
//
// Prints one line whenever the publisher's status changes:
//   STATUS state=established established=1 address=10.0.0.2 port=80 collisions=0
//     established_mono_ns=N name=NAME
// SIGUSR1 moves the announcement to MOVE_ADDRESS:MOVE_PORT and the next
// SIGUSR1 back, and so on (Update);
// SIGTERM withdraws it and exits 0.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "service/discovery/avahi_publisher.h"

namespace {

using posd::discovery::PublisherStatus;

std::string Describe(const PublisherStatus& s) {
  return "STATUS state=" + std::string(posd::discovery::PublisherStateName(s.state)) +
         " established=" + std::to_string(s.established_count) + " address=" + s.address +
         " port=" + std::to_string(s.port) + " collisions=" + std::to_string(s.collisions) +
         " established_mono_ns=" +
         std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            s.established_at.time_since_epoch())
                            .count()) +
         " name=" + s.instance_name;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 7) {
    std::fprintf(stderr, "usage: %s NAME ID ADDRESS PORT [MOVE_ADDRESS MOVE_PORT]\n", argv[0]);
    return 64;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  // Before Avahi's thread exists, so it inherits the mask.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto publisher = posd::discovery::AvahiPublisher::Create(
      {.instance_name = argv[1],
       .address = argv[3],
       .port = static_cast<uint16_t>(std::atoi(argv[4])),
       .txt = {.terminal_id = argv[2], .protocol_version = 1, .path = "/", .tls = false}});
  if (!publisher.ok()) {
    std::fprintf(stderr, "%s\n", std::string(publisher.status().message()).c_str());
    return 1;
  }
  std::string last;
  bool moved_away = false;
  const struct timespec tick {0, 5'000'000};
  while (true) {
    const std::string now = Describe((*publisher)->status());
    if (now != last) {
      std::printf("%s\n", now.c_str());
      std::fflush(stdout);
      last = now;
    }
    const int signal = sigtimedwait(&signals, nullptr, &tick);
    if (signal == SIGTERM) break;
    if (signal == SIGUSR1 && argc == 7) {
      moved_away = !moved_away;
      const absl::Status moved =
          moved_away ? (*publisher)->Update(argv[5], static_cast<uint16_t>(std::atoi(argv[6])))
                     : (*publisher)->Update(argv[3], static_cast<uint16_t>(std::atoi(argv[4])));
      std::printf("MOVED %s\n", moved.ok() ? "ok" : std::string(moved.message()).c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}
