// posd restarts in the middle of a session: the banner comes up while it
// is away and clears by itself; the tab's stream resumes from its last
// sequence, so the sale another till made meanwhile (posctl) arrives, and
// no durable event is lost or delivered twice.
import assert from "node:assert/strict";
import {
  addProduct, assertDurableConsecutive, charge, events, host, log, openCheckout, result, run,
  screenshot, waitFor, waitForPage, waitOutcome, waitTerminalReady,
} from "../lib/harness.mjs";

const bannerShown = () => document.querySelector("#posd-unreachable")?.hidden === false;
const bannerHidden = () => document.querySelector("#posd-unreachable")?.hidden === true;

run(async (browser) => {
  const page = await openCheckout(browser);
  await waitTerminalReady(page);
  await addProduct(page, "coffee");
  const before = await charge(page);
  await waitOutcome(page, "approved");
  await page.click("#new-sale");

  await host("stop-posd");
  await waitForPage(page, bannerShown, "the unreachable banner");
  await screenshot(page, "posd-unreachable");
  await host("start-posd");
  // Another till sells while this tab is still reconnecting.
  const meanwhile = await host("pay 4.20");
  log(`posctl sold ${meanwhile}`);
  await waitForPage(page, bannerHidden, "the banner to clear by itself", 60000);
  await waitFor(async () => (await events(page)).some((record) =>
    record.kind === "PAYMENT_CHANGED" && record.subject === meanwhile), "the other till's sale");

  await waitTerminalReady(page);
  await addProduct(page, "cake");
  const after = await charge(page);
  await waitOutcome(page, "approved");
  await waitFor(async () => (await events(page)).some((record) =>
    record.kind === "PAYMENT_CHANGED" && record.subject === after), "the second sale's events");

  const records = await events(page);
  const durable = assertDurableConsecutive(records, "across the restart");
  for (const payment of [before, meanwhile, after]) {
    assert.ok(records.some((record) => record.subject === payment), `events of ${payment}`);
  }
  result("payments", [before, meanwhile, after].join(","));
  result("durable_events", durable.length);
});
