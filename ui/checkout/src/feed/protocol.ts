// Messages between the tabs of one browser and whoever holds the single
// WatchEvents stream for them (the SharedWorker, or the leader tab).
// Events travel as posd.v1.Event in protobuf binary, exactly as posd sent
// them, so every tab decodes the same bytes.

// The versioned names tabs meet on; a bundle with another message format
// uses other names and so never talks to this one.
export const LEADER_LOCK_NAME = "posd-checkout-events-leader-v1";
export const BROADCAST_CHANNEL_NAME = "posd-checkout-events-v1";
export const SHARED_WORKER_NAME = "posd-checkout-events-v1";

// A tab tells the worker it is alive this often; one silent for
// TAB_TIMEOUT_MS is gone (a crashed tab sends no goodbye).
export const TAB_HEARTBEAT_MS = 2000;
export const TAB_TIMEOUT_MS = 7000;

// The stream's health as every tab shows it.
export interface FeedStatus {
  connected: boolean;        // posd answered and the stream is open
  everConnected: boolean;    // false until the first connection succeeded
  lastSequence: string;      // resume point (decimal), "" while unknown
  instanceId: string;        // posd's database the sequences belong to
  streamOpens: number;       // how many times the stream was (re)opened
  detail: string;            // why it is down, for the banner's tooltip
  tabs: number;              // tabs sharing the stream (0 when unknown)
  resets: number;            // times the log was replaced or pruned
}

export const initialStatus: FeedStatus = {
  connected: false,
  everConnected: false,
  lastSequence: "",
  instanceId: "",
  streamOpens: 0,
  detail: "",
  tabs: 0,
  resets: 0,
};

// Tab -> worker (MessagePort) and follower -> leader (BroadcastChannel).
export type TabMessage =
  | { type: "hello"; tabId: string }
  | { type: "heartbeat"; tabId: string }
  | { type: "bye"; tabId: string };

// Worker -> tab and leader -> followers.
export type FeedMessage =
  | { type: "event"; sequence: string; durable: boolean; bytes: Uint8Array }
  | { type: "status"; status: FeedStatus };
