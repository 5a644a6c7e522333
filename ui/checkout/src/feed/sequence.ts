// Where an event stream stands in posd's event log, and which incoming
// events are new. Durable events are numbered 1, 2, 3... without gaps;
// live-only events carry the sequence of the latest durable event. So the
// highest sequence seen is always a correct resume point, and a durable
// event at or below it has been delivered already (a replay after a
// reconnect or a leader change) and must not be delivered twice.
export class SequenceTracker {
  private last: bigint | undefined;

  constructor(resumeFrom?: bigint) {
    this.last = resumeFrom;
  }

  // The sequence to resume from (WatchEvents.since_sequence); undefined
  // until the stream's starting point is known.
  get resumePoint(): bigint | undefined {
    return this.last;
  }

  // Sets the starting point (e.g. the log's head when the stream starts
  // live); never moves an established position backwards.
  startAt(sequence: bigint): void {
    if (this.last === undefined || sequence > this.last) this.last = sequence;
  }

  // Forgets the position: the log was replaced or pruned past it.
  reset(): void {
    this.last = undefined;
  }

  // Records `sequence` and says whether the event should be delivered.
  accept(sequence: bigint, durable: boolean): boolean {
    if (durable && this.last !== undefined && sequence <= this.last) return false;
    if (this.last === undefined || sequence > this.last) this.last = sequence;
    return true;
  }
}
