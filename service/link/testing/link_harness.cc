#include "service/link/testing/link_harness.h"

#include <string_view>

namespace posd::link::testing {
namespace {

void AddStats(LinkStats& into, const LinkStats& s) {
  into.frames_sent += s.frames_sent;
  into.bytes_sent += s.bytes_sent;
  into.frames_received += s.frames_received;
  into.bytes_received += s.bytes_received;
  into.data_frames_sent += s.data_frames_sent;
  into.data_frames_received += s.data_frames_received;
  into.acks_sent += s.acks_sent;
  into.acks_received += s.acks_received;
  into.naks_sent += s.naks_sent;
  into.naks_received += s.naks_received;
  into.hellos_sent += s.hellos_sent;
  into.hellos_received += s.hellos_received;
  into.retransmits_timeout += s.retransmits_timeout;
  into.retransmits_nak += s.retransmits_nak;
  into.crc_errors += s.crc_errors;
  into.framing_errors += s.framing_errors;
  into.oversize_blocks += s.oversize_blocks;
  into.duplicates_dropped += s.duplicates_dropped;
  into.out_of_window_dropped += s.out_of_window_dropped;
  into.stale_epoch_dropped += s.stale_epoch_dropped;
  into.protocol_errors += s.protocol_errors;
  into.messages_queued += s.messages_queued;
  into.messages_acked += s.messages_acked;
  into.messages_delivered += s.messages_delivered;
  into.messages_unconfirmed += s.messages_unconfirmed;
  into.messages_rejected += s.messages_rejected;
  into.messages_oversize_dropped += s.messages_oversize_dropped;
  into.resyncs += s.resyncs;
  into.epoch_rotations += s.epoch_rotations;
  into.link_ups += s.link_ups;
  into.link_downs += s.link_downs;
  for (size_t i = 0; i < kLinkDownReasonCount; ++i) {
    into.link_downs_by_reason[i] += s.link_downs_by_reason[i];
  }
}

}  // namespace

LinkHarness::LinkHarness(const HarnessOptions& options) : options_(options), rng_(options.seed) {
  for (Side side : {kA, kB}) {
    lines_[side] = std::make_unique<WireLine>(options.line, rng_());
  }
  for (Side side : {kA, kB}) Boot(side);
}

void LinkHarness::Boot(Side side) {
  // Each incarnation draws its epochs from the harness's seeded generator.
  auto epoch_rng = std::make_shared<std::mt19937>(static_cast<uint32_t>(rng_()));
  auto session = LinkSession::Create(options_.config, [epoch_rng] { return (*epoch_rng)(); },
                                     now_);
  // Create only fails on an invalid config, which is the caller's bug.
  if (!session.ok()) std::abort();
  sessions_[side] = *std::move(session);
  Drain(side);
}

void LinkHarness::Drain(Side side) {
  LinkSession* session = sessions_[side].get();
  if (session == nullptr) return;
  LinkActions actions = session->TakeActions();
  if (!actions.bytes_to_send.empty()) lines_[side]->Write(actions.bytes_to_send, now_);
  if (on_actions && (!actions.delivered.empty() || !actions.acked.empty() ||
                     !actions.events.empty())) {
    on_actions(side, actions);
  }
}

void LinkHarness::PowerCut(Side side, Duration off_for) {
  if (!sessions_[side]) return;
  AddStats(dead_stats_[side], sessions_[side]->stats());
  sessions_[side].reset();
  lines_[side]->CutSender(now_);
  restart_at_[side] = now_ + off_for;
}

void LinkHarness::SchedulePowerCut(Side side, TimePoint at, Duration off_for) {
  cut_at_[side] = std::make_pair(at, off_for);
}

LinkStats LinkHarness::TotalStats(Side side) const {
  LinkStats total = dead_stats_[side];
  if (sessions_[side]) AddStats(total, sessions_[side]->stats());
  return total;
}

bool LinkHarness::RunUntil(TimePoint until, const std::function<bool()>& done) {
  if (on_step) on_step();
  for (Side side : {kA, kB}) Drain(side);
  while (true) {
    if (done && done()) return true;
    std::optional<TimePoint> next;
    auto consider = [&next](std::optional<TimePoint> t) {
      if (t && (!next || *t < *next)) next = t;
    };
    for (Side side : {kA, kB}) {
      if (sessions_[side]) consider(sessions_[side]->NextDeadline());
      consider(lines_[side]->NextReadTime());
      consider(restart_at_[side]);
      if (cut_at_[side]) consider(cut_at_[side]->first);
    }
    if (!next || *next > until) {
      now_ = until;
      return false;
    }
    now_ = std::max(now_, *next);
    for (Side side : {kA, kB}) {
      if (cut_at_[side] && cut_at_[side]->first <= now_) {
        const Duration off_for = cut_at_[side]->second;
        cut_at_[side].reset();
        PowerCut(side, off_for);
      }
      if (restart_at_[side] && *restart_at_[side] <= now_) {
        restart_at_[side].reset();
        if (options_.boot_garbage) {
          // A banner, then line noise of the power-up: it must not hide the
          // first HELLO.
          static constexpr std::string_view kBanner = "\r\nTERMINAL BOOT v2.1\r\n";
          std::vector<uint8_t> garbage(kBanner.begin(), kBanner.end());
          const size_t noise = std::uniform_int_distribution<size_t>(0, 24)(rng_);
          for (size_t i = 0; i < noise; ++i) garbage.push_back(static_cast<uint8_t>(rng_()));
          lines_[side]->WriteClean(garbage, now_);
        }
        Boot(side);
        if (on_restart) on_restart(side);
      }
    }
    for (Side from : {kA, kB}) {
      WireLine& wire = *lines_[from];
      if (wire.NextReadTime() && *wire.NextReadTime() <= now_) {
        std::vector<uint8_t> bytes = wire.Read(now_);
        const Side to = Other(from);
        if (sessions_[to] && !bytes.empty()) {
          sessions_[to]->OnBytesReceived(bytes, now_);
          Drain(to);
        }
      }
    }
    for (Side side : {kA, kB}) {
      if (!sessions_[side]) continue;
      std::optional<TimePoint> deadline = sessions_[side]->NextDeadline();
      if (deadline && *deadline <= now_) {
        sessions_[side]->OnTimer(now_);
        Drain(side);
      }
    }
    if (on_step) on_step();
    for (Side side : {kA, kB}) Drain(side);
  }
}

}  // namespace posd::link::testing
