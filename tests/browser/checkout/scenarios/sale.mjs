// A sale end to end through the UI: build an order from lines, pay it on
// the simulated terminal with live progress, see it approved. The C++ test
// then finds exactly one charge in the simulator's ledger.
import assert from "node:assert/strict";
import {
  addProduct, charge, openCheckout, result, run, screenshot, text, waitForPage, waitOutcome,
  waitTerminalReady,
} from "../lib/harness.mjs";

run(async (browser) => {
  const page = await openCheckout(browser);
  await waitTerminalReady(page);
  await addProduct(page, "coffee");
  await addProduct(page, "croissant");
  await addProduct(page, "coffee");
  assert.equal(await text(page, "#total"), "6.80 EUR");
  await screenshot(page, "order");

  const paymentId = await charge(page);
  assert.match(paymentId, /^pay_/);
  // Live progress from the event stream while the terminal works.
  await waitForPage(page, () => document.querySelector("#progress") !== null, "terminal progress");
  assert.notEqual((await text(page, "#progress")).trim(), "");
  await screenshot(page, "payment-progress");

  await waitOutcome(page, "approved");
  assert.match(await text(page, "#payment-title"), /^Approved: 6\.80 EUR/);
  await screenshot(page, "approved");
  result("payment", paymentId);
});
