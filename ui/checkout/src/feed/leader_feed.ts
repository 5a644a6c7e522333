// Where there is no SharedWorker: the tabs elect one leader with Web Locks
// (whoever holds the lock holds the stream) and it relays every event over
// a BroadcastChannel. When the leader's tab closes, the browser releases
// its lock, the next tab in line gets it and resumes the stream from the
// last sequence it received, so the tabs still share exactly one stream.
import type { PosdClients } from "../api/client";
import { ResumableEventStream } from "./event_stream";
import { EventFeed } from "./feed";
import {
  BROADCAST_CHANNEL_NAME, type FeedMessage, type FeedStatus, LEADER_LOCK_NAME, type TabMessage,
  TAB_HEARTBEAT_MS,
} from "./protocol";
import { TabRegistry } from "./tab_registry";

type ChannelMessage = FeedMessage | TabMessage;

export class LeaderElectedFeed extends EventFeed {
  readonly mode = "leader" as const;
  private readonly channel = new BroadcastChannel(BROADCAST_CHANNEL_NAME);
  private readonly tabs = new TabRegistry<string>();
  private stream: ResumableEventStream | undefined;

  constructor(private readonly clients: PosdClients, tabId: string) {
    super();
    this.channel.onmessage = (message: MessageEvent<ChannelMessage>) => this.receive(message.data);
    this.tabs.seen(tabId, tabId);
    this.send({ type: "hello", tabId });
    setInterval(() => {
      this.send({ type: "heartbeat", tabId });
      this.tabs.seen(tabId, tabId);  // a channel never delivers to its sender
      if (this.tabs.sweep().length > 0 && this.isLeader) this.publish(this.status);
    }, TAB_HEARTBEAT_MS);
    addEventListener("pagehide", () => this.send({ type: "bye", tabId }));
    void navigator.locks.request(LEADER_LOCK_NAME, () => this.lead());
  }

  get isLeader(): boolean {
    return this.stream !== undefined;
  }

  private send(message: ChannelMessage): void {
    this.channel.postMessage(message);
  }

  private receive(message: ChannelMessage): void {
    switch (message.type) {
      case "event":
        this.deliver(BigInt(message.sequence), message.durable, message.bytes);
        break;
      case "status":
        if (!this.isLeader) this.updateStatus(message.status);
        break;
      case "hello":
      case "heartbeat":
        if (this.tabs.seen(message.tabId, message.tabId) && this.isLeader) this.publish(this.status);
        break;
      case "bye":
        if (this.tabs.remove(message.tabId) && this.isLeader) this.publish(this.status);
        break;
    }
  }

  private publish(status: FeedStatus): void {
    const withTabs = { ...status, tabs: this.tabs.size };
    this.send({ type: "status", status: withTabs });
    this.updateStatus(withTabs);
  }

  // Runs while this tab holds the lock, which is until the tab goes away.
  private lead(): Promise<never> {
    const inherited = this.status;
    this.stream = new ResumableEventStream(this.clients, {
      event: (event, bytes) => {
        const sequence = event.sequence.toString();
        this.send({ type: "event", sequence, durable: event.durable, bytes });
        this.deliver(event.sequence, event.durable, bytes);
      },
      status: (status) => this.publish({ ...status, resets: Math.max(status.resets, inherited.resets) }),
    }, { resumeFrom: this.resumePoint, instanceId: inherited.instanceId });
    this.stream.start();
    return new Promise<never>(() => {});
  }
}
