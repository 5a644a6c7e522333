// The checkout page: picks how this tab gets posd's events (a SharedWorker
// for all tabs, else a leader tab, else its own stream) and starts the
// screens. window.posdCheckout exposes read-only diagnostics (which feed,
// the events this tab received) for developers and the browser tests.
import { createPosdClients, createPosdTransport, newRequestId } from "./api/client";
import type { EventFeed } from "./feed/feed";
import { LeaderElectedFeed } from "./feed/leader_feed";
import { OwnStreamFeed } from "./feed/own_stream_feed";
import { SharedWorkerFeed } from "./feed/shared_worker_feed";
import { CheckoutApp } from "./ui/app";

declare const POSD_EVENTS_WORKER_URL: string;

function chooseFeed(clients: ReturnType<typeof createPosdClients>, tabId: string): EventFeed {
  if (typeof SharedWorker === "function") {
    return new SharedWorkerFeed(new URL(POSD_EVENTS_WORKER_URL, import.meta.url), tabId);
  }
  if (typeof navigator.locks?.request === "function" && typeof BroadcastChannel === "function") {
    return new LeaderElectedFeed(clients, tabId);
  }
  return new OwnStreamFeed(clients);
}

const clients = createPosdClients(createPosdTransport(location.origin));
const tabId = newRequestId();
const feed = chooseFeed(clients, tabId);
const currency = new URLSearchParams(location.search).get("currency") ?? "EUR";
new CheckoutApp(document.getElementById("app")!, clients, feed, currency);

Object.defineProperty(window, "posdCheckout", {
  value: Object.freeze({
    tabId,
    get feedMode() { return feed.mode; },
    get status() { return feed.status; },
    get isLeader() { return feed instanceof LeaderElectedFeed && feed.isLeader; },
    get events() { return feed.records.slice(); },
  }),
});
