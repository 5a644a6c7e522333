// A tab's side of the SharedWorker that holds the stream for all tabs.
import { type FeedMessage, type TabMessage, SHARED_WORKER_NAME, TAB_HEARTBEAT_MS } from "./protocol";
import { EventFeed } from "./feed";

export class SharedWorkerFeed extends EventFeed {
  readonly mode = "shared-worker" as const;
  private readonly port: MessagePort;

  constructor(workerUrl: URL, tabId: string) {
    super();
    const worker = new SharedWorker(workerUrl, { name: SHARED_WORKER_NAME });
    this.port = worker.port;
    this.port.onmessage = (message: MessageEvent<FeedMessage>) => {
      const data = message.data;
      if (data.type === "event") this.deliver(BigInt(data.sequence), data.durable, data.bytes);
      else this.updateStatus(data.status);
    };
    this.port.start();
    this.send({ type: "hello", tabId });
    setInterval(() => this.send({ type: "heartbeat", tabId }), TAB_HEARTBEAT_MS);
    // A page put in the back/forward cache says goodbye and hello again
    // when it is shown; a closed one just says goodbye.
    addEventListener("pagehide", () => this.send({ type: "bye", tabId }));
    addEventListener("pageshow", (event) => {
      if (event.persisted) this.send({ type: "hello", tabId });
    });
  }

  private send(message: TabMessage): void {
    this.port.postMessage(message);
  }
}
