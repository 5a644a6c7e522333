#include "service/channel/result_ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "service/common/strings.h"
#include "service/link/crc32c.h"

namespace posd::channel {
namespace {

constexpr std::string_view kMagic = "POSDLGR1";
constexpr size_t kRecordHeader = 8;
// Far above any real record; a larger length means corruption.
constexpr uint32_t kMaxRecord = 1 << 20;

absl::Status ErrnoStatus(int error, std::string_view what) {
  std::string message = StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT: return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS: return absl::PermissionDeniedError(message);
    case EWOULDBLOCK: return absl::FailedPreconditionError(message);
    case ENOSPC: return absl::ResourceExhaustedError(message);
    default: return absl::UnavailableError(message);
  }
}

uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
void StoreLe32(uint32_t v, uint8_t* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

struct Replay {
  std::vector<ledger::LedgerRecord> records;
  size_t good_bytes = 0;  // offset after the last good record
  bool torn = false;
};

absl::StatusOr<Replay> Parse(const std::vector<uint8_t>& data, std::string_view name) {
  Replay replay;
  if (data.size() < kMagic.size() ||
      std::memcmp(data.data(), kMagic.data(), kMagic.size()) != 0) {
    return absl::DataLossError(StrCat(name, " is not a posd ledger file"));
  }
  size_t offset = kMagic.size();
  while (offset < data.size()) {
    if (data.size() - offset < kRecordHeader) break;
    const uint32_t length = LoadLe32(&data[offset]);
    const uint32_t crc = LoadLe32(&data[offset + 4]);
    if (length > kMaxRecord || data.size() - offset - kRecordHeader < length) break;
    std::span<const uint8_t> payload(&data[offset + kRecordHeader], length);
    if (link::Crc32c(payload) != crc) break;
    ledger::LedgerRecord record;
    if (!record.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) break;
    replay.records.push_back(std::move(record));
    offset += kRecordHeader + length;
  }
  replay.good_bytes = offset;
  replay.torn = offset != data.size();
  return replay;
}

absl::StatusOr<std::vector<uint8_t>> ReadWholeFd(int fd, std::string_view name) {
  std::vector<uint8_t> data;
  uint8_t buffer[65536];
  if (::lseek(fd, 0, SEEK_SET) < 0) return ErrnoStatus(errno, StrCat("seek ", name));
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, StrCat("read ", name));
    if (n == 0) break;
    data.insert(data.end(), buffer, buffer + n);
  }
  return data;
}

absl::Status WriteAll(int fd, const uint8_t* data, size_t size, std::string_view name) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, StrCat("write ", name));
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ResultLedger>> ResultLedger::Open(
    const std::filesystem::path& path, const Clock& clock) {
  const std::string name = path.string();
  int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoStatus(errno, StrCat("open ledger ", name));
  std::unique_ptr<ResultLedger> ledger(new ResultLedger(path, fd, clock));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return ErrnoStatus(errno, StrCat("ledger ", name, " is in use"));
  }
  absl::StatusOr<std::vector<uint8_t>> data = ReadWholeFd(fd, name);
  if (!data.ok()) return data.status();
  if (data->empty()) {
    const auto* magic = reinterpret_cast<const uint8_t*>(kMagic.data());
    if (absl::Status s = WriteAll(fd, magic, kMagic.size(), name); !s.ok()) return s;
    if (::fdatasync(fd) != 0) return ErrnoStatus(errno, StrCat("sync ", name));
    // The new directory entry must survive power loss too.
    int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
    return ledger;
  }
  absl::StatusOr<Replay> replay = Parse(*data, name);
  if (!replay.ok()) return replay.status();
  if (replay->torn) {
    // The tail is a record the crash interrupted; it never took effect
    // (whoever wrote it did not act on it before fdatasync returned).
    if (::ftruncate(fd, static_cast<off_t>(replay->good_bytes)) != 0 || ::fdatasync(fd) != 0) {
      return ErrnoStatus(errno, StrCat("repair ", name));
    }
  }
  if (::lseek(fd, 0, SEEK_END) < 0) return ErrnoStatus(errno, StrCat("seek ", name));
  for (const ledger::LedgerRecord& record : replay->records) ledger->Apply(record);
  return ledger;
}

ResultLedger::ResultLedger(std::filesystem::path path, int fd, const Clock& clock)
    : path_(std::move(path)), fd_(fd), clock_(clock) {}

ResultLedger::~ResultLedger() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::vector<ledger::LedgerRecord>> ResultLedger::ReadRecords(
    const std::filesystem::path& path) {
  const std::string name = path.string();
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, StrCat("open ledger ", name));
  absl::StatusOr<std::vector<uint8_t>> data = ReadWholeFd(fd, name);
  ::close(fd);
  if (!data.ok()) return data.status();
  absl::StatusOr<Replay> replay = Parse(*data, name);
  if (!replay.ok()) return replay.status();
  return std::move(replay->records);
}

absl::StatusOr<std::vector<ledger::LedgerTransaction>> ResultLedger::ReadTransactions(
    const std::filesystem::path& path) {
  absl::StatusOr<std::vector<ledger::LedgerRecord>> records = ReadRecords(path);
  if (!records.ok()) return records.status();
  FakeClock unused;
  ResultLedger view(path, -1, unused);
  for (const ledger::LedgerRecord& record : *records) view.Apply(record);
  std::vector<ledger::LedgerTransaction> out;
  for (const std::string& id : view.order_) out.push_back(view.by_id_.at(id));
  return out;
}

void ResultLedger::Apply(const ledger::LedgerRecord& record) {
  next_sequence_ = std::max(next_sequence_, record.sequence() + 1);
  if (record.has_started()) {
    const std::string& id = record.started().transaction_id();
    auto [it, inserted] = by_id_.try_emplace(id);
    if (!inserted) return;
    *it->second.mutable_request() = record.started();
    it->second.set_started_unix_ms(record.unix_ms());
    order_.push_back(id);
  } else if (record.has_finished()) {
    auto it = by_id_.find(record.finished().result().transaction_id());
    if (it == by_id_.end() || it->second.has_result()) return;
    *it->second.mutable_result() = record.finished().result();
    it->second.set_finished_unix_ms(record.unix_ms());
  }
}

absl::Status ResultLedger::Append(ledger::LedgerRecord& record) {
  record.set_sequence(next_sequence_);
  record.set_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                         clock_.WallNow().time_since_epoch())
                         .count());
  const std::string payload = record.SerializeAsString();
  std::vector<uint8_t> bytes(kRecordHeader + payload.size());
  StoreLe32(static_cast<uint32_t>(payload.size()), bytes.data());
  std::memcpy(bytes.data() + kRecordHeader, payload.data(), payload.size());
  StoreLe32(link::Crc32c(std::span<const uint8_t>(bytes.data() + kRecordHeader, payload.size())),
            bytes.data() + 4);
  const std::string name = path_.string();
  if (absl::Status s = WriteAll(fd_, bytes.data(), bytes.size(), name); !s.ok()) return s;
  if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, StrCat("sync ", name));
  ++next_sequence_;
  Apply(record);
  return absl::OkStatus();
}

const ledger::LedgerTransaction* ResultLedger::Find(std::string_view transaction_id) const {
  auto it = by_id_.find(transaction_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

absl::Status ResultLedger::RecordStarted(const ledger::Started& started) {
  if (Find(started.transaction_id()) != nullptr) {
    return absl::AlreadyExistsError(
        StrCat("ledger: transaction ", started.transaction_id(), " already recorded"));
  }
  ledger::LedgerRecord record;
  *record.mutable_started() = started;
  return Append(record);
}

absl::Status ResultLedger::RecordFinished(const ::posd::link::v1::Result& result) {
  const ledger::LedgerTransaction* known = Find(result.transaction_id());
  if (known == nullptr) {
    return absl::NotFoundError(StrCat("ledger: transaction ", result.transaction_id(),
                                      " was never started"));
  }
  if (known->has_result()) {
    return absl::FailedPreconditionError(
        StrCat("ledger: transaction ", result.transaction_id(), " already finished"));
  }
  ledger::LedgerRecord record;
  *record.mutable_finished()->mutable_result() = result;
  return Append(record);
}

std::vector<std::string> ResultLedger::Unfinished() const {
  std::vector<std::string> out;
  for (const std::string& id : order_) {
    if (!by_id_.at(id).has_result()) out.push_back(id);
  }
  return out;
}

int64_t ResultLedger::RefundedMinor(std::string_view original_transaction_id) const {
  int64_t total = 0;
  for (const auto& [id, t] : by_id_) {
    if (t.request().kind() == ledger::TRANSACTION_KIND_REFUND &&
        t.request().original_transaction_id() == original_transaction_id && t.has_result() &&
        t.result().outcome() == ::posd::link::v1::OUTCOME_APPROVED) {
      total += t.result().amount_minor();
    }
  }
  return total;
}

size_t ResultLedger::approved_count() const {
  size_t n = 0;
  for (const auto& [id, t] : by_id_) {
    if (t.has_result() && t.result().outcome() == ::posd::link::v1::OUTCOME_APPROVED) ++n;
  }
  return n;
}

}  // namespace posd::channel
