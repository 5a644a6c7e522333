// Fuzz target for the link state machine.
//
// Two sessions joined by a hostile wire: the input is a program of steps
// (send, carry with a corrupted, dropped, duplicated or truncated frame,
// inject raw bytes, let time pass, restart an end). Properties: no crash or
// sanitizer report; every message delivered is one that was sent, intact;
// within one session of the receiver, messages arrive in Send order with no
// duplicates; an acknowledged message was delivered; memory stays bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "service/link/link_session.h"

namespace {

using namespace posd::link;
using namespace std::chrono_literals;

void Check(bool ok) {
  if (!ok) std::abort();
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::span<const uint8_t> Take(size_t n) {
    n = std::min(n, size_ - pos_);
    std::span<const uint8_t> s(data_ + pos_, n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Message content: a 4-byte serial, then bytes derived from it.
std::vector<uint8_t> MessageFor(uint32_t serial, size_t size) {
  std::vector<uint8_t> m(size);
  for (size_t i = 0; i < size; ++i) {
    m[i] = i < 4 ? static_cast<uint8_t>(serial >> (8 * i)) : static_cast<uint8_t>(serial * 31 + i);
  }
  return m;
}

struct End {
  std::unique_ptr<LinkSession> session;
  std::vector<uint8_t> outbox;
  std::map<MessageId, uint32_t> sent;  // id -> serial
  int64_t last_serial_in = -1;         // of messages received in this session
  std::vector<uint8_t> delivered_serials;  // by serial of the peer's sends
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  LinkConfig config;
  config.window = 1 + in.Byte() % 8;
  config.max_frame_payload = 16 + in.Byte() % 64;
  config.max_message_size = 1 + in.Byte() * 4;
  config.send_queue_limit = 8;
  config.max_retries = 3;
  TimePoint now{};
  uint32_t epoch_counter = 1;
  auto epochs = [&epoch_counter] { return epoch_counter++ * 0x9E3779B1u; };
  End ends[2];
  uint32_t next_serial[2] = {0, 0};
  auto boot = [&](int i) {
    auto s = LinkSession::Create(config, epochs, now);
    Check(s.ok());
    ends[i].session = *std::move(s);
    ends[i].outbox.clear();
    ends[i].sent.clear();
  };
  auto collect = [&](int i) {
    End& e = ends[i];
    End& peer = ends[1 - i];
    LinkActions a = e.session->TakeActions();
    e.outbox.insert(e.outbox.end(), a.bytes_to_send.begin(), a.bytes_to_send.end());
    if (e.outbox.size() > 1 << 16) e.outbox.clear();  // a wire that drops
    for (const auto& m : a.delivered) {
      Check(m.size() >= 4);  // every message sent carries its serial
      const uint32_t serial =
          uint32_t{m[0]} | uint32_t{m[1]} << 8 | uint32_t{m[2]} << 16 | uint32_t{m[3]} << 24;
      Check(serial < next_serial[1 - i]);
      Check(m == MessageFor(serial, m.size()));
      Check(static_cast<int64_t>(serial) > e.last_serial_in);
      Check(e.delivered_serials[serial] == 0);
      e.delivered_serials[serial] = 1;
      e.last_serial_in = serial;
    }
    for (MessageId id : a.acked) {
      auto it = e.sent.find(id);
      Check(it != e.sent.end());
      Check(peer.delivered_serials[it->second] == 1);  // acknowledged means delivered
      e.sent.erase(it);
    }
    for (const LinkEvent& ev : a.events) {
      if (ev.kind != LinkEvent::Kind::kDown) continue;
      e.last_serial_in = -1;  // a new session of ours as receiver
      for (MessageId id : ev.unconfirmed) e.sent.erase(id);
    }
  };
  boot(0);
  boot(1);
  ends[0].delivered_serials.assign(1 << 12, 0);
  ends[1].delivered_serials.assign(1 << 12, 0);
  collect(0);
  collect(1);

  int steps = 0;
  while (!in.done() && steps++ < 2000) {
    const uint8_t op = in.Byte();
    const int i = op & 1;
    End& e = ends[i];
    End& peer = ends[1 - i];
    switch ((op >> 1) % 8) {
      case 0: {  // send
        if (next_serial[i] >= (1u << 12)) break;
        const size_t n = 4 + (in.Byte() * 7) % (config.max_message_size + 8);
        auto id = e.session->Send(MessageFor(next_serial[i], n), now);
        if (id.ok()) {
          e.sent[*id] = next_serial[i]++;
        } else {
          Check(id.status().code() == absl::StatusCode::kInvalidArgument ||
                id.status().code() == absl::StatusCode::kResourceExhausted);
        }
        break;
      }
      case 1:    // carry everything
      case 2: {  // carry with one fault
        std::vector<uint8_t> bytes = std::move(e.outbox);
        e.outbox.clear();
        if (((op >> 1) % 8) == 2 && !bytes.empty()) {
          const uint8_t kind = in.Byte();
          const size_t at = (size_t{in.Byte()} << 8 | in.Byte()) % bytes.size();
          switch (kind % 4) {
            case 0: bytes[at] ^= static_cast<uint8_t>(1u << (kind >> 5)); break;
            case 1: bytes.erase(bytes.begin() + static_cast<ptrdiff_t>(at)); break;
            case 2:  // replays earlier frames of this batch: a path that repeats
              bytes.insert(bytes.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(at));
              break;
            case 3: bytes.resize(at); break;
          }
        }
        now += 1ms;
        peer.session->OnBytesReceived(bytes, now);
        collect(1 - i);
        break;
      }
      case 3: {  // raw bytes from the input, as noise between delimiters
        // libFuzzer learns compared values (CRCs, epochs) and could forge a
        // valid frame; a forged frame is indistinguishable from a real one,
        // so such inputs are not injected.
        std::vector<uint8_t> noise = {0};
        std::span<const uint8_t> raw = in.Take(in.Byte() % 64);
        noise.insert(noise.end(), raw.begin(), raw.end());
        noise.push_back(0);
        FrameDecoder probe;
        std::vector<FrameDecoder::Result> probed;
        probe.Feed(noise, probed);
        bool forged = false;
        for (const auto& r : probed) forged = forged || r.ok();
        if (forged) break;
        peer.session->OnBytesReceived(noise, now);
        collect(1 - i);
        break;
      }
      case 4: {  // time passes
        now += std::chrono::milliseconds(in.Byte()) * 10;
        for (int k = 0; k < 2; ++k) {
          ends[k].session->OnTimer(now);
          collect(k);
        }
        break;
      }
      case 5:  // run to the next deadline
        if (auto d = e.session->NextDeadline()) {
          Check(*d >= now - 1h);
          now = std::max(now, *d);
          e.session->OnTimer(now);
          collect(i);
        }
        break;
      case 6:  // lose the outbox
        e.outbox.clear();
        break;
      case 7:  // power cut: new session, empty memory
        if (in.Byte() % 4 == 0) {
          boot(i);
          peer.last_serial_in = -1;
          e.last_serial_in = -1;
          collect(i);
        } else {
          e.session->Restart(now);
          collect(i);
        }
        break;
    }
    Check(e.session->pending_messages() <= config.send_queue_limit);
  }
  return 0;
}
