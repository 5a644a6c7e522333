import assert from "node:assert/strict";
import { test } from "node:test";
import { SequenceTracker } from "../src/feed/sequence";

test("durable events at or below the position are replays and dropped", () => {
  const tracker = new SequenceTracker(5n);
  assert.equal(tracker.accept(5n, true), false);
  assert.equal(tracker.accept(4n, true), false);
  assert.equal(tracker.accept(6n, true), true);
  assert.equal(tracker.resumePoint, 6n);
});

test("live events carry the latest durable sequence and are always delivered", () => {
  const tracker = new SequenceTracker(6n);
  assert.equal(tracker.accept(6n, false), true);
  assert.equal(tracker.accept(6n, false), true);
  assert.equal(tracker.resumePoint, 6n);
  assert.equal(tracker.accept(7n, true), true);
});

test("an unknown position accepts anything and then holds it", () => {
  const tracker = new SequenceTracker();
  assert.equal(tracker.resumePoint, undefined);
  assert.equal(tracker.accept(10n, true), true);
  assert.equal(tracker.accept(10n, true), false);
});

test("startAt never moves backwards; reset forgets", () => {
  const tracker = new SequenceTracker(8n);
  tracker.startAt(3n);
  assert.equal(tracker.resumePoint, 8n);
  tracker.startAt(9n);
  assert.equal(tracker.resumePoint, 9n);
  tracker.reset();
  assert.equal(tracker.resumePoint, undefined);
  assert.equal(tracker.accept(1n, true), true);
});
