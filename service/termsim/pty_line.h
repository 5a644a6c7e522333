// The simulator's end of a pseudo-terminal: openpty() with the slave in raw
// mode; the simulator reads and writes the master, posd opens the slave path
// as if it were a serial port. Optionally a symlink to the slave path, so a
// restarted simulator (new /dev/pts/N) is found under the same name.
//
// Owns the master and its own slave descriptor (kept open so the master
// does not see EIO while posd has the port closed). Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/transport/byte_stream.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace posd::termsim {

class PtyLine {
 public:
  // `link` may be empty. UNAVAILABLE when openpty fails; the symlink error
  // (PERMISSION_DENIED, NOT_FOUND, ...) when it cannot be created.
  static absl::StatusOr<std::unique_ptr<PtyLine>> Create(std::string link);
  ~PtyLine();  // closes both ends and removes the symlink
  PtyLine(const PtyLine&) = delete;
  PtyLine& operator=(const PtyLine&) = delete;

  const std::string& slave_path() const { return slave_path_; }
  const std::string& link() const { return link_; }
  // Removes the symlink if it still names this pty (a newer simulator may
  // have taken the name). Also done by the destructor.
  void RemoveLink();

  // A ByteStream over a duplicate of the master (each call a new one, so
  // the simulator can drop and reopen its line across power cycles).
  absl::StatusOr<std::unique_ptr<transport::ByteStream>> OpenMaster(boost::asio::io_context& io);

 private:
  PtyLine(int master, int slave, std::string slave_path, std::string link);
  int master_;
  int slave_;
  std::string slave_path_;
  std::string link_;
};

}  // namespace posd::termsim
