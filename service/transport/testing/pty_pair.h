// A pseudo-terminal pair for tests: the slave path stands in for a serial
// port (open it with SerialPort::Open), the master end is the "terminal" the
// test drives. Closing the master is the test's way to pull the cable.
//
// Ownership: the pair owns both descriptors and closes them on destruction.
// It keeps its own slave descriptor open so that the pty outlives any opener
// of the slave path (otherwise master reads fail with EIO between opens).
// Thread safety: none; use one pair from one thread at a time. The master
// helpers block for at most their timeout; do not call them on a thread that
// must keep an io_context running unless the timeout is short.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posd::transport::testing {

class PtyPair {
 public:
  // openpty() with the slave in raw mode (no echo, no translation), so bytes
  // pass unchanged even before anyone configures it. The master is
  // non-blocking and close-on-exec.
  static absl::StatusOr<PtyPair> Create();

  PtyPair(PtyPair&& other) noexcept;
  PtyPair& operator=(PtyPair&& other) noexcept;
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;
  ~PtyPair();

  // e.g. "/dev/pts/3".
  const std::string& slave_path() const { return slave_path_; }
  // -1 after CloseMaster().
  int master_fd() const { return master_fd_; }
  // The pair's own slave descriptor (e.g. for tcgetattr); -1 after CloseSlave().
  int slave_fd() const { return slave_fd_; }

  // Writes all of `bytes` to the master. DEADLINE_EXCEEDED when the slave side
  // does not drain them in time; UNAVAILABLE on an I/O error.
  absl::Status WriteToMaster(std::span<const std::uint8_t> bytes,
                             std::chrono::milliseconds timeout);
  absl::Status WriteToMaster(std::string_view bytes, std::chrono::milliseconds timeout);

  // Waits up to `timeout` for bytes at the master and returns those available
  // (at most `max_bytes`); empty when none came in time. UNAVAILABLE when no
  // slave is open any more (EIO).
  absl::StatusOr<std::vector<std::uint8_t>> ReadSomeFromMaster(std::chrono::milliseconds timeout,
                                                               std::size_t max_bytes = 65536);

  // Reads exactly `count` bytes. DEADLINE_EXCEEDED (saying how many came)
  // when they do not all arrive in time.
  absl::StatusOr<std::vector<std::uint8_t>> ReadFromMaster(std::size_t count,
                                                           std::chrono::milliseconds timeout);

  // Closes the master: every slave descriptor hangs up, as when a USB adapter
  // is unplugged.
  void CloseMaster();
  // Closes the pair's own slave descriptor.
  void CloseSlave();

 private:
  PtyPair(int master_fd, int slave_fd, std::string slave_path);

  int master_fd_ = -1;
  int slave_fd_ = -1;
  std::string slave_path_;
};

}  // namespace posd::transport::testing
