// One terminal, one transaction: which payment or refund holds each terminal,
// as the engine's writer sees it.
//
// A command reserves the terminal inside the group transaction that records
// the payment (or refund) DISPATCHED, before the terminal hears a byte, so
// two commands of one group cannot both take it (the device's own READY is
// only updated once the sale reaches its driver, after the commit). The
// command that records the outcome, or IN_DOUBT, releases it in the same
// transaction, before any client can see that outcome: a payment started
// the moment a client sees the previous one final finds the terminal free.
//
// Every change is journaled per command, so that a command whose savepoint
// is rolled back, or a group whose transaction fails, undoes its changes
// (Undo) and the table always matches what is committed.
//
// Thread safety: none; the engine's writer thread only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace posd::engine {

class TerminalReservations {
 public:
  // The changes one command made, in order, for Undo.
  struct Change {
    std::string device_id;
    std::optional<std::string> previous_holder;
  };
  using Journal = std::vector<Change>;

  // Reserves `device_id` for `transaction_id`. OK when it was free or held
  // by the same transaction; FAILED_PRECONDITION with reason DEVICE_NOT_READY
  // (metadata device_state BUSY, subject the device) naming the holder
  // otherwise.
  absl::Status Reserve(std::string_view device_id, std::string_view transaction_id,
                       Journal& journal);
  // Frees `device_id` if `transaction_id` holds it; otherwise does nothing.
  void Release(std::string_view device_id, std::string_view transaction_id, Journal& journal);
  // The transaction holding `device_id`, if any.
  std::optional<std::string> Holder(std::string_view device_id) const;
  // Reverts `journal`'s changes, newest first, and empties it.
  void Undo(Journal& journal);

 private:
  std::map<std::string, std::string, std::less<>> holders_;
};

}  // namespace posd::engine
