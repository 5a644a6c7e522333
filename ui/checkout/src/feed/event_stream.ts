// The one WatchEvents stream of a browser, kept open for as long as its
// owner (the SharedWorker or the leader tab) wants it: it reconnects with
// backoff, resumes from the last sequence it delivered, checks that posd is
// still the same database (instance_id), and notices a posd that stops
// answering while the stream is idle.
import { toBinary } from "@bufbuild/protobuf";
import type { PosdClients } from "../api/client";
import { describeFailure } from "../api/errors";
import { ErrorReason } from "../gen/posd/v1/errors_pb";
import { EventSchema, type Event } from "../gen/posd/v1/events_pb";
import { initialStatus, type FeedStatus } from "./protocol";
import { SequenceTracker } from "./sequence";

export interface EventStreamSink {
  // Every event once, in posd's order, with its bytes as posd sent them.
  event(event: Event, bytes: Uint8Array): void;
  // The stream's health changed.
  status(status: FeedStatus): void;
}

export interface EventStreamOptions {
  resumeFrom?: bigint;       // a previous holder's last sequence
  instanceId?: string;       // the database that sequence belongs to
  probeIntervalMs?: number;  // how often an idle stream checks posd answers
  callTimeoutMs?: number;    // deadline of the probe and set-up calls
  maxBackoffMs?: number;
}

export class ResumableEventStream {
  private readonly tracker: SequenceTracker;
  private readonly probeIntervalMs: number;
  private readonly callTimeoutMs: number;
  private readonly maxBackoffMs: number;
  private current: FeedStatus;
  private stopped = true;
  private attempt: AbortController | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly clients: PosdClients, private readonly sink: EventStreamSink,
              options: EventStreamOptions = {}) {
    this.tracker = new SequenceTracker(options.resumeFrom);
    this.probeIntervalMs = options.probeIntervalMs ?? 5000;
    this.callTimeoutMs = options.callTimeoutMs ?? 3000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.current = { ...initialStatus, instanceId: options.instanceId ?? "" };
  }

  get status(): FeedStatus {
    return this.current;
  }

  get resumePoint(): bigint | undefined {
    return this.tracker.resumePoint;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  // Closes the stream (posd sees the call cancelled) and stops reconnecting.
  stop(): void {
    this.stopped = true;
    this.attempt?.abort();
    this.wake?.();
  }

  private publish(change: Partial<FeedStatus>): void {
    this.current = { ...this.current, ...change,
                     lastSequence: this.tracker.resumePoint?.toString() ?? "" };
    this.sink.status(this.current);
  }

  private async run(): Promise<void> {
    let backoffMs = 250;
    while (!this.stopped) {
      const attempt = new AbortController();
      this.attempt = attempt;
      let probe: ReturnType<typeof setInterval> | undefined;
      let streamed = false;
      let openedAt = 0;
      try {
        await this.connect(attempt.signal);
        streamed = true;
        openedAt = Date.now();
        probe = setInterval(() => this.probe(attempt), this.probeIntervalMs);
        const request = { sinceSequence: this.tracker.resumePoint, instanceId: this.current.instanceId };
        for await (const event of this.clients.events.watchEvents(request, { signal: attempt.signal })) {
          if (!this.tracker.accept(event.sequence, event.durable)) continue;
          this.sink.event(event, toBinary(EventSchema, event));
        }
      } catch (error) {
        if (this.stopped) break;
        const failure = describeFailure(error);
        if (failure.reason === ErrorReason.EVENTS_PRUNED ||
            failure.reason === ErrorReason.INSTANCE_MISMATCH) {
          // The position means nothing any more: start again at the head,
          // and tell the tabs to reload what they show.
          this.tracker.reset();
          this.publish({ instanceId: "", resets: this.current.resets + 1 });
        }
        // A stream that was open and broke is retried at once; the banner
        // goes up only when posd does not answer that retry.
        if (!streamed || !this.current.connected) {
          this.publish({ connected: false, detail: `${failure.codeName}: ${failure.message}` });
        }
      } finally {
        if (probe !== undefined) clearInterval(probe);
        attempt.abort();
      }
      if (this.stopped) break;
      // A stream that lived a while is reopened at once; failures to
      // connect, and streams that keep breaking at once, back off.
      if (streamed && Date.now() - openedAt >= 1000) {
        backoffMs = 250;
      } else {
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.maxBackoffMs);
      }
    }
  }

  // posd answers, is the same database, and the resume point is known.
  private async connect(signal: AbortSignal): Promise<void> {
    const options = { signal, timeoutMs: this.callTimeoutMs };
    const info = await this.clients.admin.getServerInfo({}, options);
    if (this.current.instanceId !== "" && info.instanceId !== this.current.instanceId) {
      this.tracker.reset();
      this.publish({ resets: this.current.resets + 1 });
    }
    if (this.tracker.resumePoint === undefined) {
      // Start at the head of the log: what happened before is what the
      // tabs load with List calls.
      const head = await this.clients.events.listEvents({ pageSize: 1 }, options);
      this.tracker.startAt(head.headSequence);
    }
    this.publish({ connected: true, everConnected: true, detail: "",
                   instanceId: info.instanceId, streamOpens: this.current.streamOpens + 1 });
  }

  private probe(attempt: AbortController): void {
    this.clients.admin.getServerInfo({}, { signal: attempt.signal, timeoutMs: this.callTimeoutMs })
      .catch(() => {
        if (attempt.signal.aborted) return;
        this.publish({ connected: false, detail: "posd stopped answering" });
        attempt.abort();
      });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
