// Pushes at least 10,000 messages of random sizes (1 byte to the maximum)
// through each fault profile of the wire emulator, in both directions at
// once, and proves:
//   - every message handed to Send is delivered at most once, ever, intact;
//   - within one receiver session messages arrive in Send order;
//   - every acknowledged message was delivered;
//   - every message the link handed back as unconfirmed is the only kind
//     that the application may see twice (it resends it);
//   - in the end every application message arrived;
//   - without power cuts: one session, nothing unconfirmed, the delivered
//     sequence is exactly the sent sequence.
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/link/link_session.h"
#include "service/link/testing/link_harness.h"

namespace posd::link::testing {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kMessagesAtoB = 10'000;
constexpr uint32_t kMessagesBtoA = 2'000;

struct Profile {
  std::string name;
  WireFaults faults;
  bool power_cuts_a = false;
  bool power_cuts_b = false;
  bool mixed = false;
};

std::vector<Profile> Profiles() {
  std::vector<Profile> p;
  p.push_back({"clean", {}});
  Profile bits{"bit_errors", {}};
  bits.faults.bit_error_rate = 5e-5;
  p.push_back(bits);
  Profile burst{"burst_noise", {}};
  burst.faults.burst_rate = 2e-5;
  burst.faults.burst_max_bytes = 32;
  p.push_back(burst);
  Profile drop{"dropped_bytes", {}};
  drop.faults.byte_drop_rate = 5e-5;
  p.push_back(drop);
  Profile frames{"dropped_frames", {}};
  frames.faults.frame_drop_rate = 0.03;
  p.push_back(frames);
  Profile dup{"duplicated_frames", {}};
  dup.faults.frame_duplicate_rate = 0.03;
  p.push_back(dup);
  Profile trunc{"truncated_frames", {}};
  trunc.faults.frame_truncate_rate = 0.03;
  p.push_back(trunc);
  Profile pause{"long_pause", {}};
  pause.faults.pause_rate = 0.005;
  p.push_back(pause);
  Profile cut_a{"power_cut_a", {}};
  cut_a.power_cuts_a = true;
  p.push_back(cut_a);
  Profile cut_b{"power_cut_b", {}};
  cut_b.power_cuts_b = true;
  p.push_back(cut_b);
  Profile mixed{"mixed", {}};
  mixed.mixed = true;
  mixed.power_cuts_a = mixed.power_cuts_b = true;
  p.push_back(mixed);
  return p;
}

// Payloads are a function of their serial (one per Send call): the first
// bytes are the serial itself, the rest a cheap pseudo-random stream.
std::vector<uint8_t> PayloadFor(uint64_t serial, size_t size) {
  std::vector<uint8_t> bytes(size);
  uint64_t x = serial * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    if (i < 8) {
      bytes[i] = static_cast<uint8_t>(serial >> (8 * i));
      continue;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    bytes[i] = static_cast<uint8_t>(x);
  }
  return bytes;
}

// One direction of traffic: the application above the sending end and the
// bookkeeping of the receiving end.
struct Flow {
  Side from = kA;
  uint32_t total = 0;
  uint32_t next_app = 0;
  std::deque<uint32_t> resend;
  std::map<MessageId, uint64_t> outstanding;  // at the live sender session
  // Serials handed back by the last two session changes of the sender: only
  // these and the outstanding ones can still arrive.
  std::vector<uint64_t> limbo[2];
  std::vector<uint32_t> app_of;               // by serial
  std::vector<uint32_t> size_of;              // by serial
  std::vector<uint8_t> delivered;             // by serial: 0 or 1
  std::vector<uint32_t> app_deliveries;       // by app id
  std::vector<uint32_t> app_doubts;           // by app id
  uint64_t rx_session = 0;                    // bumps at Down events and restarts
  std::map<uint64_t, int64_t> last_serial;    // by rx session
  std::vector<uint64_t> order;                // serials in delivery order
  uint64_t unconfirmed = 0;
  uint32_t apps_delivered = 0;

  bool Done() const {
    return next_app == total && resend.empty() && outstanding.empty() && apps_delivered == total;
  }
};

class LinkFaultsTest : public ::testing::TestWithParam<Profile> {
 protected:
  void Run(const Profile& profile, uint64_t seed);
};

void LinkFaultsTest::Run(const Profile& profile, uint64_t seed) {
  HarnessOptions options;
  options.seed = seed;
  options.line.baud = 115200;
  options.line.faults = profile.faults;
  // USB adapters deliver in bursts (FTDI latency timer: 1 to 16 ms).
  options.line.max_read_latency = 8ms;
  LinkHarness harness(options);
  const uint32_t max_size = options.config.max_message_size;
  std::mt19937_64 rng(seed * 31 + 7);

  Flow flows[2];
  flows[kA].from = kA;
  flows[kA].total = kMessagesAtoB;
  flows[kB].from = kB;
  flows[kB].total = kMessagesBtoA;
  for (Flow& f : flows) {
    f.app_deliveries.assign(f.total, 0);
    f.app_doubts.assign(f.total, 0);
  }

  auto random_size = [&rng, max_size]() -> uint32_t {
    // An eighth uniform over 1 .. max, one in 32 exactly max, the rest
    // log-uniform so that tiny, medium and large messages all occur often.
    if (rng() % 8 == 0) return 1 + static_cast<uint32_t>(rng() % max_size);
    if (rng() % 32 == 0) return max_size;
    const double e = std::uniform_real_distribution<double>(0, std::log(double(max_size)))(rng);
    return std::max<uint32_t>(1, static_cast<uint32_t>(std::exp(e)));
  };

  auto send_more = [&](Flow& f) {
    if (!harness.powered(f.from)) return;
    LinkSession& s = harness.session(f.from);
    while ((!f.resend.empty() || f.next_app < f.total) &&
           s.pending_messages() < options.config.send_queue_limit) {
      const uint32_t app = f.resend.empty() ? f.next_app : f.resend.front();
      const uint64_t serial = f.app_of.size();
      const uint32_t size = random_size();
      absl::StatusOr<MessageId> id = s.Send(PayloadFor(serial, size), harness.now());
      if (!id.ok()) {
        ASSERT_EQ(id.status().code(), absl::StatusCode::kResourceExhausted) << id.status();
        return;
      }
      f.app_of.push_back(app);
      f.size_of.push_back(size);
      f.delivered.push_back(0);
      f.outstanding[*id] = serial;
      if (f.resend.empty()) {
        ++f.next_app;
      } else {
        f.resend.pop_front();
      }
    }
  };

  auto on_delivered = [&](Flow& f, const std::vector<uint8_t>& m) {
    int64_t& last = f.last_serial.try_emplace(f.rx_session, -1).first->second;
    // Identify the serial: exact for 8 bytes and more; for shorter messages
    // the first serial after the last one of this session whose payload
    // matches (in-order delivery makes that the right one).
    int64_t serial = -1;
    if (m.size() >= 8) {
      uint64_t s = 0;
      for (int i = 0; i < 8; ++i) s |= uint64_t{m[i]} << (8 * i);
      serial = static_cast<int64_t>(s);
    } else {
      auto consider = [&](uint64_t s) {
        if (static_cast<int64_t>(s) > last && !f.delivered[s] && f.size_of[s] == m.size() &&
            (serial < 0 || static_cast<int64_t>(s) < serial) && PayloadFor(s, m.size()) == m) {
          serial = static_cast<int64_t>(s);
        }
      };
      for (const auto& [id, s] : f.outstanding) consider(s);
      for (const auto& gen : f.limbo) {
        for (uint64_t s : gen) consider(s);
      }
    }
    ASSERT_GE(serial, 0) << "unidentifiable message of " << m.size() << " bytes";
    ASSERT_LT(static_cast<uint64_t>(serial), f.app_of.size());
    const auto s = static_cast<uint64_t>(serial);
    ASSERT_EQ(m.size(), f.size_of[s]);
    ASSERT_EQ(m, PayloadFor(s, m.size())) << "corrupt message delivered";
    ASSERT_EQ(f.delivered[s], 0) << "serial " << s << " delivered twice";
    ASSERT_GT(serial, last) << "out of order within a session";
    last = serial;
    f.delivered[s] = 1;
    f.order.push_back(s);
    const uint32_t app = f.app_of[s];
    if (f.app_deliveries[app]++ == 0) ++f.apps_delivered;
    ASSERT_LE(f.app_deliveries[app], 1 + f.app_doubts[app])
        << "app message " << app << " duplicated without having been in doubt";
  };

  auto doubt = [](Flow& f, uint64_t serial) {
    f.limbo[0].push_back(serial);
    const uint32_t app = f.app_of[serial];
    ++f.app_doubts[app];
    ++f.unconfirmed;
    f.resend.push_back(app);
  };

  harness.on_actions = [&](Side side, LinkActions& actions) {
    Flow& inbound = flows[Other(side)];
    Flow& outbound = flows[side];
    for (const auto& m : actions.delivered) on_delivered(inbound, m);
    for (MessageId id : actions.acked) {
      auto it = outbound.outstanding.find(id);
      ASSERT_NE(it, outbound.outstanding.end());
      ASSERT_EQ(outbound.delivered[it->second], 1) << "acknowledged but not delivered";
      outbound.outstanding.erase(it);
    }
    for (const LinkEvent& e : actions.events) {
      ASSERT_NE(e.kind, LinkEvent::Kind::kMessageRejected);
      if (e.kind != LinkEvent::Kind::kDown) continue;
      ++inbound.rx_session;
      outbound.limbo[1] = std::move(outbound.limbo[0]);
      outbound.limbo[0].clear();
      for (MessageId id : e.unconfirmed) {
        auto it = outbound.outstanding.find(id);
        ASSERT_NE(it, outbound.outstanding.end());
        doubt(outbound, it->second);
        outbound.outstanding.erase(it);
      }
    }
  };
  harness.on_restart = [&](Side side) {
    // The application's durable store knows what it had sent: all of it is
    // in doubt, and the receiving side starts a new session.
    flows[side].limbo[1] = std::move(flows[side].limbo[0]);
    flows[side].limbo[0].clear();
    for (auto& [id, serial] : flows[side].outstanding) doubt(flows[side], serial);
    flows[side].outstanding.clear();
    ++flows[Other(side)].rx_session;
  };

  const std::vector<Profile> all = Profiles();
  TimePoint next_mix = harness.now();
  TimePoint next_cut[2] = {harness.now() + 2s, harness.now() + 3s};
  int cuts[2] = {0, 0};
  int cuts_mid_frame = 0, cuts_mid_window = 0;
  harness.on_step = [&] {
    const TimePoint now = harness.now();
    if (profile.mixed && now >= next_mix) {
      for (Side side : {kA, kB}) {
        WireFaults f = all[rng() % all.size()].faults;
        // Half strength: every fault at once is harsher than any one alone.
        f.bit_error_rate /= 2;
        harness.line(side).set_faults(f);
      }
      next_mix = now + std::chrono::milliseconds(200 + rng() % 2000);
    }
    for (Side side : {kA, kB}) {
      const bool enabled = side == kA ? profile.power_cuts_a : profile.power_cuts_b;
      if (!enabled || now < next_cut[side] || !harness.powered(side)) continue;
      if (harness.line(side).line_free_at() > now) ++cuts_mid_frame;
      if (harness.session(side).pending_messages() > 0) ++cuts_mid_window;
      harness.PowerCut(side, std::chrono::milliseconds(1 + rng() % 300));
      ++cuts[side];
      next_cut[side] = now + std::chrono::milliseconds(500 + rng() % 8000);
    }
    send_more(flows[kA]);
    send_more(flows[kB]);
  };

  const bool finished = harness.RunUntil(TimePoint{} + std::chrono::hours(10), [&] {
    return ::testing::Test::HasFatalFailure() || (flows[kA].Done() && flows[kB].Done());
  });
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ASSERT_TRUE(finished) << "did not finish in 10 virtual hours";

  for (const Flow& f : flows) {
    for (uint32_t app = 0; app < f.total; ++app) {
      ASSERT_GE(f.app_deliveries[app], 1u) << "app message " << app << " lost";
    }
  }
  const LinkStats a = harness.TotalStats(kA);
  const LinkStats b = harness.TotalStats(kB);
  const bool breaks = profile.power_cuts_a || profile.power_cuts_b;
  if (!breaks) {
    // One session: exactly-once, in order, nothing handed back.
    EXPECT_EQ(a.link_downs + b.link_downs, 0u);
    for (const Flow& f : flows) {
      EXPECT_EQ(f.unconfirmed, 0u);
      ASSERT_EQ(f.order.size(), f.total);
      for (uint64_t i = 0; i < f.order.size(); ++i) ASSERT_EQ(f.order[i], i);
    }
  } else {
    if (profile.power_cuts_a) {
      EXPECT_GT(cuts[kA], 0);
    }
    if (profile.power_cuts_b) {
      EXPECT_GT(cuts[kB], 0);
    }
    EXPECT_GT(cuts_mid_frame, 0);
    EXPECT_GT(cuts_mid_window, 0);
  }
  std::printf(
      "[%s] virtual %.0f s; A->B %zu sends, B->A %zu sends; unconfirmed %llu/%llu; "
      "A: frames %llu retx t/n %llu/%llu crc %llu framing %llu dup %llu stale %llu downs %llu; "
      "B: crc %llu naks %llu dup %llu stale %llu downs %llu; cuts %d/%d (mid-frame %d, "
      "mid-window %d)\n",
      profile.name.c_str(),
      std::chrono::duration<double>(harness.now().time_since_epoch()).count(),
      flows[kA].app_of.size(), flows[kB].app_of.size(),
      static_cast<unsigned long long>(flows[kA].unconfirmed),
      static_cast<unsigned long long>(flows[kB].unconfirmed),
      static_cast<unsigned long long>(a.data_frames_sent),
      static_cast<unsigned long long>(a.retransmits_timeout),
      static_cast<unsigned long long>(a.retransmits_nak),
      static_cast<unsigned long long>(a.crc_errors),
      static_cast<unsigned long long>(a.framing_errors),
      static_cast<unsigned long long>(a.duplicates_dropped),
      static_cast<unsigned long long>(a.stale_epoch_dropped),
      static_cast<unsigned long long>(a.link_downs),
      static_cast<unsigned long long>(b.crc_errors), static_cast<unsigned long long>(b.naks_sent),
      static_cast<unsigned long long>(b.duplicates_dropped),
      static_cast<unsigned long long>(b.stale_epoch_dropped),
      static_cast<unsigned long long>(b.link_downs), cuts[kA], cuts[kB], cuts_mid_frame,
      cuts_mid_window);
}

TEST_P(LinkFaultsTest, EveryMessageExactlyOnceInOrder) { Run(GetParam(), 20260101); }

INSTANTIATE_TEST_SUITE_P(Profiles, LinkFaultsTest, ::testing::ValuesIn(Profiles()),
                         [](const ::testing::TestParamInfo<Profile>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace posd::link::testing
