#include "plugins/receipt/serial_receipt_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/transport/serial_port.h"

namespace posd::plugins {

absl::StatusOr<std::unique_ptr<SerialReceiptSink>> SerialReceiptSink::Create(
    transport::SerialSettings settings, std::string journal_path,
    std::chrono::milliseconds timeout) {
  POSD_RETURN_IF_ERROR(settings.Validate());
  if (timeout.count() <= 0) return absl::InvalidArgumentError("timeout must be positive");
  std::set<std::string, std::less<>> printed;
  if (!journal_path.empty() && ::access(journal_path.c_str(), F_OK) == 0) {
    std::ifstream in(journal_path);
    if (!in) return absl::UnavailableError(StrCat("cannot read receipt journal ", journal_path));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) printed.insert(line);
    }
  }
  return std::unique_ptr<SerialReceiptSink>(new SerialReceiptSink(
      std::move(settings), std::move(journal_path), timeout, std::move(printed)));
}

absl::Status SerialReceiptSink::Deliver(std::string_view idempotency_key, std::string_view bytes) {
  absl::MutexLock lock(&mu_);
  if (printed_.contains(idempotency_key)) return absl::OkStatus();
  POSD_RETURN_IF_ERROR(Print(bytes));
  printed_.emplace(idempotency_key);
  return Journal(idempotency_key);
}

absl::Status SerialReceiptSink::Print(std::string_view bytes) {
  boost::asio::io_context io;
  absl::StatusOr<std::unique_ptr<transport::SerialPort>> port =
      transport::SerialPort::Open(io, settings_);
  if (!port.ok()) {
    // A printer that is unplugged or busy now may be back for the retry.
    return absl::UnavailableError(StrCat("receipt printer: ", port.status().message()));
  }
  std::optional<absl::Status> written;
  POSD_RETURN_IF_ERROR((*port)->Write(std::vector<std::uint8_t>(bytes.begin(), bytes.end()),
                                      [&written](const absl::Status& s) { written = s; }));
  io.run_for(timeout_);
  (*port)->Close();
  if (!written) {
    return absl::UnavailableError(StrCat("receipt printer on ", settings_.port, " took longer than ",
                                         timeout_.count(), " ms"));
  }
  if (!written->ok()) {
    return absl::UnavailableError(StrCat("receipt printer: ", written->message()));
  }
  return absl::OkStatus();
}

absl::Status SerialReceiptSink::Journal(std::string_view key) {
  if (journal_path_.empty()) return absl::OkStatus();
  const int fd = ::open(journal_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    // Printed but not journaled: report success anyway, or the retry would
    // print a second copy for sure.
    return absl::OkStatus();
  }
  const std::string line = StrCat(key, "\n");
  [[maybe_unused]] const ssize_t n = ::write(fd, line.data(), line.size());
  ::fsync(fd);
  ::close(fd);
  return absl::OkStatus();
}

}  // namespace posd::plugins
