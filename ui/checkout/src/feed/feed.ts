// What a tab sees of posd's event log, whoever holds the stream: every
// event once, in order, and the stream's health. Three ways to hold it,
// best first: a SharedWorker for all tabs; without one, a leader tab
// elected with Web Locks that relays over a BroadcastChannel; without
// those (an insecure context), each tab its own stream.
import { fromBinary } from "@bufbuild/protobuf";
import { EventSchema, type Event, EventKind } from "../gen/posd/v1/events_pb";
import { initialStatus, type FeedStatus } from "./protocol";
import { SequenceTracker } from "./sequence";

export type FeedMode = "shared-worker" | "leader" | "own-stream";

// One delivered event as diagnostics keep it (window.posdCheckout.events).
export interface EventRecord {
  sequence: string;
  durable: boolean;
  kind: string;
  subject: string;
}

const MAX_RECORDS = 10000;

export abstract class EventFeed {
  abstract readonly mode: FeedMode;
  readonly records: EventRecord[] = [];
  private readonly eventListeners = new Set<(event: Event) => void>();
  private readonly statusListeners = new Set<(status: FeedStatus) => void>();
  private readonly tracker = new SequenceTracker();
  private current: FeedStatus = initialStatus;

  get status(): FeedStatus {
    return this.current;
  }

  // The last sequence this tab received: where a new stream holder resumes.
  protected get resumePoint(): bigint | undefined {
    return this.tracker.resumePoint;
  }

  onEvent(listener: (event: Event) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onStatus(listener: (status: FeedStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.current);
    return () => this.statusListeners.delete(listener);
  }

  // Durable events this tab already has are dropped: after a leader change
  // the new holder may replay what the old one relayed.
  protected deliver(sequence: bigint, durable: boolean, bytes: Uint8Array): void {
    if (!this.tracker.accept(sequence, durable)) return;
    const event = fromBinary(EventSchema, bytes);
    if (this.records.length >= MAX_RECORDS) this.records.shift();
    this.records.push({ sequence: sequence.toString(), durable, kind: EventKind[event.kind] ?? "",
                        subject: subjectOf(event) });
    for (const listener of this.eventListeners) listener(event);
  }

  protected updateStatus(status: FeedStatus): void {
    if (status.resets > this.current.resets) this.tracker.reset();
    if (status.lastSequence !== "") this.tracker.startAt(BigInt(status.lastSequence));
    this.current = status;
    for (const listener of this.statusListeners) listener(status);
  }
}

function subjectOf(event: Event): string {
  const payload = event.payload;
  switch (payload.case) {
    case "order":
    case "payment":
    case "refund":
    case "device":
    case "hookRun":
      return payload.value.id;
    case "paymentProgress":
      return `${payload.value.paymentId || payload.value.refundId}:${payload.value.stage}`;
    default:
      return "";
  }
}
