// Without SharedWorker, three tabs elect one leader (Web Locks) that holds
// the only stream and relays it (BroadcastChannel). The leader's tab is
// closed in the middle of a payment: another tab takes over, resumes from
// the last sequence, and the remaining tabs still see identical,
// gap-free event sequences over one stream.
import assert from "node:assert/strict";
import {
  addProduct, assertDurableConsecutive, charge, events, feedMode, isLeader, log, openCheckout,
  result, run, status, waitFor, waitForPage, waitOpenWebStreams, waitOutcome, waitTerminalReady,
} from "../lib/harness.mjs";

async function leaders(pages) {
  const flags = await Promise.all(pages.map((page) => isLeader(page)));
  return pages.filter((_, index) => flags[index]);
}

run(async (browser) => {
  const tabs = [];
  for (const name of ["one", "two", "three"]) {
    const page = await openCheckout(browser, { sharedWorker: false, name });
    await waitTerminalReady(page);
    assert.equal(await feedMode(page), "leader");
    tabs.push(page);
  }
  await waitFor(async () => (await Promise.all(tabs.map(status))).every((s) => s.tabs === 3),
                "every tab to count three tabs");
  const [leader] = await waitFor(async () => {
    const found = await leaders(tabs);
    return found.length === 1 ? found : undefined;
  }, "exactly one leader");
  await waitOpenWebStreams(1, "three tabs, one leader");
  const followers = tabs.filter((page) => page !== leader);
  const starts = await Promise.all(followers.map(async (page) => (await events(page)).length));

  // A sale from a follower; the leader's tab closes while the terminal works.
  const till = followers[0];
  await addProduct(till, "juice");
  const paymentId = await charge(till);
  await waitForPage(till, () => document.querySelector("#progress") !== null, "terminal progress");
  log("closing the leader tab mid-payment");
  await leader.close();

  await waitOutcome(till, "approved");
  await waitFor(async () => (await leaders(followers)).length === 1, "a new leader");
  await waitOpenWebStreams(1, "after the hand-over");
  await waitFor(async () => (await status(followers[0])).tabs === 2, "the closed tab to be noticed");

  const approvedSeen = (records) => records.some((record) =>
    record.kind === "PAYMENT_CHANGED" && record.subject === paymentId);
  const [a, b] = await waitFor(async () => {
    const seen = await Promise.all(followers.map(async (page, index) =>
      (await events(page)).slice(starts[index])));
    return seen.every(approvedSeen) && seen[0].length === seen[1].length ? seen : undefined;
  }, "both remaining tabs to receive the sale");
  assert.deepEqual(b, a);
  assertDurableConsecutive(a, "across the leader change");
  result("payment", paymentId);
  result("events", a.length);
});
