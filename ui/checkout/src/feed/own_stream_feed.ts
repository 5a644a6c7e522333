// The last resort, where neither SharedWorker nor Web Locks exist (Web
// Locks need a secure context): this tab holds a stream of its own.
import type { PosdClients } from "../api/client";
import { ResumableEventStream } from "./event_stream";
import { EventFeed } from "./feed";

export class OwnStreamFeed extends EventFeed {
  readonly mode = "own-stream" as const;

  constructor(clients: PosdClients) {
    super();
    const stream = new ResumableEventStream(clients, {
      event: (event, bytes) => this.deliver(event.sequence, event.durable, bytes),
      status: (status) => this.updateStatus({ ...status, tabs: 1 }),
    });
    stream.start();
  }
}
