// Two tabs share one WatchEvents stream through the SharedWorker: posd
// holds exactly one gRPC-Web stream for both, both see the same events in
// the same order, the worker notices a closed tab, and the stream goes
// when the last tab does.
import assert from "node:assert/strict";
import {
  addProduct, charge, events, feedMode, log, openCheckout, openWebStreams, result, run, status,
  waitFor, waitOpenWebStreams, waitOutcome, waitTerminalReady, assertDurableConsecutive,
} from "../lib/harness.mjs";

run(async (browser) => {
  const first = await openCheckout(browser, { name: "first" });
  await waitTerminalReady(first);
  const second = await openCheckout(browser, { name: "second" });
  await waitTerminalReady(second);
  assert.equal(await feedMode(first), "shared-worker");
  assert.equal(await feedMode(second), "shared-worker");
  await waitFor(async () => (await status(first)).tabs === 2 && (await status(second)).tabs === 2,
                "the worker to count two tabs");
  await waitOpenWebStreams(1, "two tabs");

  const startFirst = (await events(first)).length;
  const startSecond = (await events(second)).length;
  await addProduct(first, "cappuccino");
  const paymentId = await charge(first);
  await waitOutcome(first, "approved");
  const approvedSeen = (records) => records.some((record) =>
    record.kind === "PAYMENT_CHANGED" && record.subject === paymentId);
  // Both tabs got the whole sale, event for event.
  const [seenFirst, seenSecond] = await waitFor(async () => {
    const a = (await events(first)).slice(startFirst);
    const b = (await events(second)).slice(startSecond);
    return approvedSeen(a) && approvedSeen(b) && a.length === b.length ? [a, b] : undefined;
  }, "both tabs to receive the sale");
  assert.deepEqual(seenSecond, seenFirst);
  assertDurableConsecutive(seenFirst, "shared stream");
  assert.equal(await openWebStreams(), 1, "still one stream after the sale");
  log(`both tabs saw ${seenFirst.length} events`);

  await second.close();
  await waitFor(async () => (await status(first)).tabs === 1, "the worker to notice the closed tab");
  assert.equal(await openWebStreams(), 1, "the remaining tab keeps the stream");
  await first.close();
  await waitOpenWebStreams(0, "all tabs closed");
  result("payment", paymentId);
  result("events", seenFirst.length);
});
