// SerialPort over real pseudo-terminal pairs, driven by a real io_context on
// the test thread. The test thread alternates between running the
// io_context and playing the terminal at the pty master, so there are no
// threads and no sleeps: every wait is for a condition, with a deadline.
#include "service/transport/serial_port.h"

#include <termios.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/transport/testing/pty_pair.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::transport {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::posd::testing::TempDir;
using ::posd::transport::testing::PtyPair;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

using Bytes = std::vector<std::uint8_t>;

Bytes RandomBytes(std::mt19937& rng, std::size_t size) {
  std::uniform_int_distribution<int> byte(0, 255);
  Bytes bytes(size);
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(byte(rng));
  return bytes;
}

class SerialPortPtyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PtyPair> pty = PtyPair::Create();
    POSD_ASSERT_OK(pty);
    pty_.emplace(*std::move(pty));
  }

  SerialSettings Settings() const {
    SerialSettings settings;
    settings.port = pty_->slave_path();
    return settings;
  }

  std::unique_ptr<SerialPort> OpenSlave() { return OpenSlave(Settings()); }
  std::unique_ptr<SerialPort> OpenSlave(const SerialSettings& settings) {
    absl::StatusOr<std::unique_ptr<SerialPort>> port = SerialPort::Open(io_, settings);
    EXPECT_THAT(port, IsOk());
    return port.ok() ? *std::move(port) : nullptr;
  }

  // Runs the io_context in short slices, calling `step` (the terminal's
  // side) in between, until `done` or the deadline. False on timeout.
  bool RunUntil(const std::function<bool()>& done, const std::function<void()>& step = {},
                std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(2ms);
      if (step) step();
    }
    return true;
  }

  // Runs until no work is left: every handler that was pending (including
  // aborted operations after Close) has run.
  void Drain() {
    io_.restart();
    io_.run();
  }

  // Appends whatever the master has to `out`, without waiting.
  void ReadMasterInto(Bytes& out) {
    absl::StatusOr<Bytes> some = pty_->ReadSomeFromMaster(0ms);
    ASSERT_THAT(some, IsOk());
    out.insert(out.end(), some->begin(), some->end());
  }

  // Declared before the port-holding locals of each test, so destroyed after.
  boost::asio::io_context io_;
  std::optional<PtyPair> pty_;
};

TEST_F(SerialPortPtyTest, WritesArriveAtTheMasterIntactAndInOrder) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  port->Start({});

  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> size(1, 5000);
  std::vector<Bytes> writes;
  writes.push_back(RandomBytes(rng, 1 << 20));  // Far more than the pty buffers.
  for (int i = 0; i < 200; ++i) writes.push_back(RandomBytes(rng, size(rng)));
  Bytes expected;
  for (const Bytes& w : writes) expected.insert(expected.end(), w.begin(), w.end());

  std::vector<int> completed;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    ASSERT_THAT(port->Write(writes[i],
                            [&completed, i](const absl::Status& status) {
                              EXPECT_THAT(status, IsOk());
                              completed.push_back(static_cast<int>(i));
                            }),
                IsOk());
  }
  // All but the first wait in the queue while it is in flight.
  EXPECT_EQ(port->queued_bytes(), expected.size());

  Bytes received;
  ASSERT_TRUE(RunUntil(
      [&] { return completed.size() == writes.size() && received.size() >= expected.size(); },
      [&] { ReadMasterInto(received); }))
      << "completed " << completed.size() << " writes, received " << received.size();
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected) << "bytes differ";
  std::vector<int> in_order(writes.size());
  for (std::size_t i = 0; i < in_order.size(); ++i) in_order[i] = static_cast<int>(i);
  EXPECT_EQ(completed, in_order);
  EXPECT_EQ(port->queued_bytes(), 0u);
}

TEST_F(SerialPortPtyTest, WritesQueuedFromACompletionCallbackFollowInOrder) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  int remaining = 50;
  Bytes expected;
  std::function<void(const absl::Status&)> again = [&](const absl::Status& status) {
    ASSERT_THAT(status, IsOk());
    if (--remaining == 0) return;
    Bytes next(100, static_cast<std::uint8_t>(remaining));
    expected.insert(expected.end(), next.begin(), next.end());
    ASSERT_THAT(port->Write(next, again), IsOk());
  };
  Bytes first(100, 0xAA);
  expected = first;
  ASSERT_THAT(port->Write(first, again), IsOk());  // Before Start(): allowed.
  port->Start({});
  Bytes received;
  ASSERT_TRUE(RunUntil([&] { return remaining == 0 && received.size() >= expected.size(); },
                       [&] { ReadMasterInto(received); }));
  EXPECT_TRUE(received == expected);
}

TEST_F(SerialPortPtyTest, EmptyWriteCompletes) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  std::optional<absl::Status> result;
  ASSERT_THAT(port->Write({}, [&](const absl::Status& status) { result = status; }), IsOk());
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }));
  EXPECT_THAT(*result, IsOk());
}

TEST_F(SerialPortPtyTest, BytesWrittenAtTheMasterAreDeliveredWhateverTheChunking) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  Bytes received;
  int chunks = 0;
  port->Start({.on_data =
                   [&](std::span<const std::uint8_t> bytes) {
                     ++chunks;
                     received.insert(received.end(), bytes.begin(), bytes.end());
                   },
               .on_closed = [](const absl::Status& status) { ADD_FAILURE() << status; }});

  std::mt19937 rng(11);
  const Bytes sent = RandomBytes(rng, 256 * 1024);
  std::uniform_int_distribution<std::size_t> chunk(1, 3000);
  std::size_t offset = 0;
  // The slave's input buffer holds only a few KiB, so the master is written
  // non-blocking and only as fast as the port reads.
  auto feed = [&] {
    while (offset < sent.size()) {
      const std::size_t n = std::min(chunk(rng), sent.size() - offset);
      const ssize_t written = ::write(pty_->master_fd(), sent.data() + offset, n);
      if (written < 0) {
        ASSERT_EQ(errno, EAGAIN) << std::strerror(errno);
        return;
      }
      offset += static_cast<std::size_t>(written);
    }
  };
  ASSERT_TRUE(RunUntil([&] { return received.size() >= sent.size(); }, feed))
      << "received " << received.size() << " of " << sent.size();
  EXPECT_TRUE(received == sent) << "bytes differ";
  EXPECT_GT(chunks, 1);
}

TEST_F(SerialPortPtyTest, TermiosSettingsAreAppliedToTheDevice) {
  SerialSettings settings = Settings();
  settings.baud = 9600;
  settings.data_bits = 7;
  settings.parity = Parity::kOdd;
  settings.stop_bits = StopBits::kTwo;
  settings.flow_control = FlowControl::kRtsCts;
  std::unique_ptr<SerialPort> port = OpenSlave(settings);
  ASSERT_NE(port, nullptr);

  // Termios belongs to the tty, so the pair's own slave descriptor sees it.
  termios t{};
  ASSERT_EQ(tcgetattr(pty_->slave_fd(), &t), 0);
  EXPECT_EQ(cfgetospeed(&t), static_cast<speed_t>(B9600));
  EXPECT_EQ(cfgetispeed(&t), static_cast<speed_t>(B9600));
  EXPECT_NE(t.c_cflag & CSTOPB, 0u);
  EXPECT_NE(t.c_cflag & CRTSCTS, 0u);
  EXPECT_NE(t.c_cflag & PARODD, 0u);
  EXPECT_NE(t.c_cflag & CLOCAL, 0u);
  EXPECT_EQ(t.c_lflag & (ECHO | ICANON | ISIG), 0u);
  EXPECT_EQ(t.c_iflag & (IXON | IXOFF), 0u);
  // Recent Linux pseudo-terminals have no wire and report CS8 without PARENB
  // whatever was set; older ones keep CS7 and PARENB. The mapping itself is
  // checked exactly in tests/unit/transport/termios_config_test.cc.
  const tcflag_t size = t.c_cflag & CSIZE;
  if (size == CS7) {
    EXPECT_NE(t.c_cflag & PARENB, 0u);
  } else {
    EXPECT_EQ(size, static_cast<tcflag_t>(CS8));
    EXPECT_EQ(t.c_cflag & PARENB, 0u);
  }
}

TEST_F(SerialPortPtyTest, SoftwareFlowControlIsApplied) {
  SerialSettings settings = Settings();
  settings.baud = 57600;
  settings.flow_control = FlowControl::kXonXoff;
  std::unique_ptr<SerialPort> port = OpenSlave(settings);
  ASSERT_NE(port, nullptr);
  termios t{};
  ASSERT_EQ(tcgetattr(pty_->slave_fd(), &t), 0);
  EXPECT_EQ(cfgetospeed(&t), static_cast<speed_t>(B57600));
  EXPECT_EQ(t.c_iflag & (IXON | IXOFF), static_cast<tcflag_t>(IXON | IXOFF));
  EXPECT_EQ(t.c_cflag & (CRTSCTS | CSTOPB), 0u);
}

TEST_F(SerialPortPtyTest, ClosingTheMasterIsAClosedStreamError) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  std::vector<std::string> events;
  std::optional<absl::Status> closed;
  port->Start({.on_data = [](std::span<const std::uint8_t>) {},
               .on_closed =
                   [&](const absl::Status& status) {
                     events.push_back("closed");
                     closed = status;
                   }});
  // More than the pty can buffer, with nobody reading the master: stuck in
  // flight, plus one queued behind it.
  std::optional<absl::Status> stuck;
  std::optional<absl::Status> queued;
  ASSERT_THAT(port->Write(Bytes(1 << 20, 0x55),
                          [&](const absl::Status& s) {
                            events.push_back("write1");
                            stuck = s;
                          }),
              IsOk());
  ASSERT_THAT(port->Write(Bytes(10, 0x66),
                          [&](const absl::Status& s) {
                            events.push_back("write2");
                            queued = s;
                          }),
              IsOk());
  io_.restart();
  io_.poll();  // The first write goes out until the pty is full.

  pty_->CloseMaster();  // The cable is pulled.
  ASSERT_TRUE(RunUntil([&] { return closed.has_value(); }));
  EXPECT_THAT(*closed,
              StatusIs(absl::StatusCode::kUnavailable,
                       StartsWith("serial port " + pty_->slave_path() + " disconnected (")));
  EXPECT_THAT(*stuck, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("disconnected")));
  EXPECT_THAT(*queued, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("disconnected")));
  EXPECT_EQ(events, (std::vector<std::string>{"write1", "write2", "closed"}));
  EXPECT_FALSE(port->is_open());
  EXPECT_EQ(port->queued_bytes(), 0u);
  EXPECT_THAT(port->Write({1}), StatusIs(absl::StatusCode::kFailedPrecondition));

  Drain();
  EXPECT_EQ(events.size(), 3u) << "a callback ran twice";
}

TEST_F(SerialPortPtyTest, HangupWhileOnlyReadingIsReported) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  int closed_calls = 0;
  absl::Status closed;
  port->Start({.on_data = {}, .on_closed = [&](const absl::Status& status) {
                 ++closed_calls;
                 closed = status;
               }});
  pty_->CloseMaster();
  ASSERT_TRUE(RunUntil([&] { return closed_calls > 0; }));
  EXPECT_THAT(closed, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("disconnected")));
  Drain();
  EXPECT_EQ(closed_calls, 1);
}

TEST_F(SerialPortPtyTest, FailureBeforeStartIsReportedByStart) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  std::optional<absl::Status> write_result;
  ASSERT_THAT(port->Write(Bytes(1 << 20, 1), [&](const absl::Status& s) { write_result = s; }),
              IsOk());
  pty_->CloseMaster();
  ASSERT_TRUE(RunUntil([&] { return write_result.has_value(); }));
  EXPECT_THAT(*write_result, StatusIs(absl::StatusCode::kUnavailable));
  std::optional<absl::Status> closed;
  port->Start({.on_data = {}, .on_closed = [&](const absl::Status& s) { closed = s; }});
  EXPECT_FALSE(closed.has_value()) << "ran inside Start()";
  ASSERT_TRUE(RunUntil([&] { return closed.has_value(); }));
  EXPECT_THAT(*closed, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("disconnected")));
}

struct CallbackCounts {
  int data = 0;
  int closed = 0;
  int writes = 0;
};

ByteStreamHandlers Counting(CallbackCounts& counts) {
  return {.on_data = [&counts](std::span<const std::uint8_t>) { ++counts.data; },
          .on_closed = [&counts](const absl::Status&) { ++counts.closed; }};
}

TEST_F(SerialPortPtyTest, CloseStopsAllCallbacks) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  CallbackCounts counts;
  port->Start(Counting(counts));
  // A read that would complete, a write in flight that cannot, and queued ones.
  ASSERT_THAT(pty_->WriteToMaster("waiting bytes", 1s), IsOk());
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(port->Write(Bytes(1 << 19, 7), [&](const absl::Status&) { ++counts.writes; }),
                IsOk());
  }
  io_.restart();
  io_.poll();  // Starts the first write; may deliver the waiting bytes.
  const int data_before_close = counts.data;
  port->Close();
  EXPECT_FALSE(port->is_open());
  EXPECT_EQ(port->queued_bytes(), 0u);
  port->Close();  // Idempotent.

  pty_->CloseMaster();  // Would be a hangup error if anything still listened.
  Drain();
  EXPECT_EQ(counts.data, data_before_close);
  EXPECT_EQ(counts.closed, 0);
  EXPECT_EQ(counts.writes, 0);
}

TEST_F(SerialPortPtyTest, DestroyingThePortWithOperationsPendingStopsCallbacks) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  CallbackCounts counts;
  port->Start(Counting(counts));
  ASSERT_THAT(port->Write(Bytes(1 << 20, 3), [&](const absl::Status&) { ++counts.writes; }),
              IsOk());
  io_.restart();
  io_.poll();
  port.reset();
  ASSERT_THAT(pty_->WriteToMaster("late", 1s), IsOk());
  Drain();  // Aborted handlers run against the freed port's state: ASan watches.
  EXPECT_EQ(counts.data, 0);
  EXPECT_EQ(counts.closed, 0);
  EXPECT_EQ(counts.writes, 0);
}

TEST_F(SerialPortPtyTest, CloseFromInsideADataCallbackStopsFurtherCallbacks) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  CallbackCounts counts;
  port->Start({.on_data =
                   [&](std::span<const std::uint8_t>) {
                     ++counts.data;
                     port->Close();
                   },
               .on_closed = [&](const absl::Status&) { ++counts.closed; }});
  ASSERT_THAT(pty_->WriteToMaster("first", 1s), IsOk());
  ASSERT_TRUE(RunUntil([&] { return counts.data > 0; }));
  ASSERT_THAT(pty_->WriteToMaster("second", 1s), IsOk());
  pty_->CloseMaster();
  Drain();
  EXPECT_EQ(counts.data, 1);
  EXPECT_EQ(counts.closed, 0);
}

TEST_F(SerialPortPtyTest, DestroyingThePortFromItsOwnCallbackIsSafe) {
  std::unique_ptr<SerialPort> port = OpenSlave();
  ASSERT_NE(port, nullptr);
  int closed_calls = 0;
  port->Start({.on_data = {}, .on_closed = [&](const absl::Status&) {
                 ++closed_calls;
                 port.reset();  // The owner reacts to the loss by dropping the port.
               }});
  pty_->CloseMaster();
  ASSERT_TRUE(RunUntil([&] { return closed_calls > 0; }));
  Drain();
  EXPECT_EQ(closed_calls, 1);
  EXPECT_EQ(port, nullptr);
}

TEST_F(SerialPortPtyTest, ASecondOpenOfTheSamePortIsRefused) {
  std::unique_ptr<SerialPort> first = OpenSlave();
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(
      SerialPort::Open(io_, Settings()),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "serial port " + pty_->slave_path() + " is in use (locked by another opener)"));

  // Also through another name for the same device.
  TempDir dir;
  const std::filesystem::path link = dir.File("terminal");
  std::filesystem::create_symlink(pty_->slave_path(), link);
  SerialSettings via_link = Settings();
  via_link.port = link.string();
  EXPECT_THAT(SerialPort::Open(io_, via_link),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is in use")));

  // The refused opener did not disturb the first one's settings or its line.
  first->Close();
  std::unique_ptr<SerialPort> again = OpenSlave();
  EXPECT_NE(again, nullptr);
}

TEST_F(SerialPortPtyTest, OpeningASlaveWhoseMasterIsGoneFails) {
  const std::string path = pty_->slave_path();
  // Closing the master removes the slave's node from devpts at once, as
  // unplugging a USB adapter removes /dev/ttyUSB0.
  pty_->CloseMaster();
  EXPECT_THAT(SerialPort::Open(io_, Settings()),
              StatusIs(absl::StatusCode::kNotFound, "serial port " + path + " does not exist"));
}

}  // namespace
}  // namespace posd::transport
