#include "service/channel/message_transport.h"

namespace posd::channel {

std::string_view TransportDownReasonName(TransportDownReason reason) {
  switch (reason) {
    case TransportDownReason::kNone: return "none";
    case TransportDownReason::kRetriesExhausted: return "retries_exhausted";
    case TransportDownReason::kPeerRestarted: return "peer_restarted";
    case TransportDownReason::kLocalReset: return "local_reset";
    case TransportDownReason::kStreamFailed: return "stream_failed";
    case TransportDownReason::kClosed: return "closed";
  }
  return "unknown";
}

}  // namespace posd::channel
