#include "service/transport/fd_stream.h"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <deque>
#include <optional>
#include <utility>

#include "service/transport/posix_error.h"
#include "service/common/strings.h"

namespace posd::transport {

class FdStream::Core : public std::enable_shared_from_this<FdStream::Core> {
 public:
  Core(boost::asio::io_context& io, std::string description, std::unique_ptr<OpenDevice> device)
      : io_(io),
        descriptor_(io),
        device_(std::move(device)),
        description_(std::move(description)) {}

  absl::Status Init() {
    boost::system::error_code ec;
    descriptor_.assign(device_->fd(), ec);
    if (ec) {
      device_.reset();
      state_ = State::kClosed;
      return absl::UnavailableError(
          StrCat("cannot watch ", description_, " for I/O: ", ec.message()));
    }
    return absl::OkStatus();
  }

  void Start(ByteStreamHandlers handlers) {
    if (started_ || state_ == State::kClosed) return;
    started_ = true;
    handlers_ = std::move(handlers);
    if (state_ == State::kFailed) {
      // A write failed before anyone listened; report it from the loop, never
      // from inside Start().
      boost::asio::post(io_, [self = shared_from_this()] { self->ReportFailure(); });
      return;
    }
    ReadSome();
  }

  absl::Status Write(std::vector<std::uint8_t> bytes, WriteCallback done) {
    if (state_ != State::kOpen) {
      return absl::FailedPreconditionError(StrCat(description_, " is closed"));
    }
    queued_bytes_ += bytes.size();
    queue_.push_back(PendingWrite{std::move(bytes), std::move(done)});
    if (!writing_) WriteNext();
    return absl::OkStatus();
  }

  void Close() {
    if (state_ == State::kClosed) return;
    const bool io_running = state_ == State::kOpen;
    state_ = State::kClosed;
    if (io_running) ShutdownIo();
    DropPendingWrites();
    failure_.reset();
    if (callback_depth_ == 0) ReleaseHandlers();
  }

  bool is_open() const { return state_ == State::kOpen; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  std::string_view description() const { return description_; }

 private:
  enum class State {
    kOpen,
    // I/O is down and the failure is being (or waits to be) reported.
    kFailed,
    // Terminal: no callback runs any more.
    kClosed,
  };

  struct PendingWrite {
    std::vector<std::uint8_t> bytes;
    WriteCallback done;
  };

  void ReadSome() {
    descriptor_.async_read_some(
        boost::asio::buffer(read_buffer_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          self->OnRead(ec, n);
        });
  }

  void OnRead(const boost::system::error_code& ec, std::size_t n) {
    // operation_aborted and anything else after Close()/Fail() land here.
    if (state_ != State::kOpen) return;
    if (ec) {
      Fail(IoError(ec, "read"));
      return;
    }
    Invoke(handlers_.on_data, std::span<const std::uint8_t>(read_buffer_.data(), n));
    if (state_ == State::kOpen) ReadSome();
  }

  void WriteNext() {
    if (queue_.empty() || state_ != State::kOpen) return;
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    // async_write loops over partial writes (EAGAIN included) until the whole
    // buffer is taken, so a write is never split between other writes.
    boost::asio::async_write(descriptor_, boost::asio::buffer(in_flight_.bytes),
                             [self = shared_from_this()](const boost::system::error_code& ec,
                                                         std::size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const boost::system::error_code& ec) {
    writing_ = false;
    if (state_ != State::kOpen) return;
    if (ec) {
      Fail(IoError(ec, "write"));
      return;
    }
    queued_bytes_ -= in_flight_.bytes.size();
    in_flight_.bytes = {};
    WriteCallback done = std::move(in_flight_.done);
    in_flight_.done = nullptr;
    Invoke(done, absl::OkStatus());
    // The callback may have queued (and so started) another write already.
    if (!writing_) WriteNext();
  }

  void Fail(absl::Status status) {
    if (state_ != State::kOpen) return;
    state_ = State::kFailed;
    ShutdownIo();
    std::vector<WriteCallback> failed_writes;
    // A completed write's callback is moved out before it runs, so a callback
    // still here belongs to the write in flight (or the one that just failed).
    if (in_flight_.done) failed_writes.push_back(std::move(in_flight_.done));
    in_flight_.done = nullptr;
    for (PendingWrite& pending : queue_) failed_writes.push_back(std::move(pending.done));
    queue_.clear();
    queued_bytes_ = 0;
    failure_ = status;
    for (WriteCallback& done : failed_writes) {
      if (state_ != State::kFailed) return;  // Close() from a callback.
      Invoke(done, status);
    }
    if (state_ == State::kFailed && started_) ReportFailure();
  }

  void ReportFailure() {
    if (state_ != State::kFailed || !failure_.has_value()) return;
    const absl::Status status = *std::move(failure_);
    failure_.reset();
    ++callback_depth_;
    if (handlers_.on_closed) handlers_.on_closed(status);
    --callback_depth_;
    state_ = State::kClosed;
    if (callback_depth_ == 0) ReleaseHandlers();
  }

  // Stops Asio watching the descriptor, then closes it. release() aborts the
  // pending operations (their handlers run later with operation_aborted and
  // see the state) and removes the descriptor from epoll, so Asio never
  // closes it and never polls a number the kernel may hand out again.
  void ShutdownIo() {
    descriptor_.release();
    device_.reset();
  }

  void DropPendingWrites() {
    queue_.clear();
    // The aborted async_write still refers to in_flight_.bytes until its
    // handler runs; keep the bytes, drop only the callback.
    in_flight_.done = nullptr;
    queued_bytes_ = 0;
  }

  void ReleaseHandlers() {
    // Destroying user callbacks may destroy the owner of this stream, which
    // calls Close() again; the state is already kClosed, so that is a no-op.
    ByteStreamHandlers released = std::move(handlers_);
    handlers_ = {};
  }

  template <typename Callback, typename... Args>
  void Invoke(Callback& callback, Args&&... args) {
    if (!callback) return;
    // Callbacks may Close() the stream; its handlers must not be destroyed
    // while one of them runs, so release waits for the outermost callback.
    ++callback_depth_;
    callback(std::forward<Args>(args)...);
    if (--callback_depth_ == 0 && state_ == State::kClosed) ReleaseHandlers();
  }

  absl::Status IoError(const boost::system::error_code& ec, std::string_view operation) const {
    if (ec == boost::asio::error::eof) {
      return absl::UnavailableError(StrCat(description_, " disconnected (hangup)"));
    }
    if (ec.category() == boost::system::system_category()) {
      const int error = ec.value();
      if (error == EIO || error == ENXIO || error == ENODEV || error == EPIPE) {
        return absl::UnavailableError(
            StrCat(description_, " disconnected (", ErrnoName(error), ")"));
      }
      return absl::UnavailableError(StrCat(description_, " ", operation, " failed: ", ec.message(),
                                           " (", ErrnoName(error), ")"));
    }
    return absl::UnavailableError(StrCat(description_, " ", operation, " failed: ", ec.message()));
  }

  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor descriptor_;
  std::unique_ptr<OpenDevice> device_;
  const std::string description_;

  State state_ = State::kOpen;
  bool started_ = false;
  bool writing_ = false;
  int callback_depth_ = 0;
  ByteStreamHandlers handlers_;
  std::optional<absl::Status> failure_;

  PendingWrite in_flight_;
  std::deque<PendingWrite> queue_;
  std::size_t queued_bytes_ = 0;
  std::array<std::uint8_t, 8192> read_buffer_{};
};

absl::StatusOr<std::unique_ptr<FdStream>> FdStream::Create(boost::asio::io_context& io,
                                                           std::string description,
                                                           std::unique_ptr<OpenDevice> device) {
  auto core = std::make_shared<Core>(io, std::move(description), std::move(device));
  if (absl::Status status = core->Init(); !status.ok()) return status;
  return std::unique_ptr<FdStream>(new FdStream(std::move(core)));
}

FdStream::FdStream(std::shared_ptr<Core> core) : core_(std::move(core)) {}
FdStream::~FdStream() { core_->Close(); }

void FdStream::Start(ByteStreamHandlers handlers) { core_->Start(std::move(handlers)); }
absl::Status FdStream::Write(std::vector<std::uint8_t> bytes, WriteCallback done) {
  return core_->Write(std::move(bytes), std::move(done));
}
void FdStream::Close() { core_->Close(); }
bool FdStream::is_open() const { return core_->is_open(); }
std::size_t FdStream::queued_bytes() const { return core_->queued_bytes(); }
std::string_view FdStream::description() const { return core_->description(); }

}  // namespace posd::transport
