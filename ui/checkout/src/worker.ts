// The SharedWorker that holds the browser's single WatchEvents stream and
// fans its events out to every tab of the checkout (one MessagePort each).
// It stops the stream when the last tab is gone and resumes from the last
// sequence when a tab comes back.
import { createPosdClients, createPosdTransport } from "./api/client";
import { ResumableEventStream } from "./feed/event_stream";
import {
  type FeedMessage, type FeedStatus, initialStatus, type TabMessage, TAB_HEARTBEAT_MS,
} from "./feed/protocol";
import { TabRegistry } from "./feed/tab_registry";

interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
  location: Location;
}
const scope = self as unknown as SharedWorkerScope;

const clients = createPosdClients(createPosdTransport(scope.location.origin));
const tabs = new TabRegistry<MessagePort>();
let status: FeedStatus = initialStatus;
let stream: ResumableEventStream | undefined;

// The status as tabs see it: how many share the stream, and where it
// stands now (the stream itself reports its position only on changes of
// health).
function withTabs(current: FeedStatus): FeedStatus {
  return { ...current, tabs: tabs.size,
           lastSequence: stream?.resumePoint?.toString() ?? current.lastSequence };
}

function broadcast(message: FeedMessage): void {
  // Each port gets its own copy of the bytes (nothing is transferred).
  for (const port of tabs.handles()) port.postMessage(message);
}

function publishStatus(): void {
  broadcast({ type: "status", status: withTabs(status) });
}

function ensureStream(): void {
  if (stream !== undefined) return;
  const previous = status;
  stream = new ResumableEventStream(clients, {
    event(event, bytes) {
      broadcast({ type: "event", sequence: event.sequence.toString(), durable: event.durable, bytes });
    },
    status(next) {
      status = next;
      publishStatus();
    },
  }, {
    resumeFrom: previous.lastSequence === "" ? undefined : BigInt(previous.lastSequence),
    instanceId: previous.instanceId,
  });
  status = { ...stream.status, streamOpens: previous.streamOpens, resets: previous.resets };
  stream.start();
}

function stopStreamIfUnused(): void {
  if (tabs.size > 0 || stream === undefined) return;
  stream.stop();
  // Keep where it stood, so the next tab resumes from there.
  status = { ...status, connected: false,
             lastSequence: stream.resumePoint?.toString() ?? status.lastSequence };
  stream = undefined;
}

function forget(port: MessagePort): void {
  if (tabs.removeHandle(port)) {
    publishStatus();
    stopStreamIfUnused();
  }
}

scope.onconnect = (connection: MessageEvent) => {
  const port = connection.ports[0];
  port.onmessage = (message: MessageEvent<TabMessage>) => {
    const data = message.data;
    switch (data.type) {
      case "hello":
      case "heartbeat": {
        const isNew = tabs.seen(data.tabId, port);
        if (isNew) {
          ensureStream();
          publishStatus();
        }
        break;
      }
      case "bye":
        forget(port);
        break;
    }
  };
  // Chromium fires `close` on a MessagePort whose other side went away;
  // heartbeats cover browsers that do not.
  port.addEventListener("close", () => forget(port));
  port.start();
};

setInterval(() => {
  if (tabs.sweep().length > 0) {
    publishStatus();
    stopStreamIfUnused();
  }
}, TAB_HEARTBEAT_MS);
