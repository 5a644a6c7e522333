// A declined card is shown as declined (the simulator declines amounts
// ending in 51), with another try offered and nothing shown as paid.
import assert from "node:assert/strict";
import {
  addCustomItem, charge, openCheckout, result, run, screenshot, text, waitOutcome, waitTerminalReady,
} from "../lib/harness.mjs";

run(async (browser) => {
  const page = await openCheckout(browser);
  await waitTerminalReady(page);
  await addCustomItem(page, "Gift box", "10.51");
  assert.equal(await text(page, "#total"), "10.51 EUR");
  const paymentId = await charge(page);
  await waitOutcome(page, "declined");
  assert.match(await text(page, "#payment-title"), /^Declined: 10\.51 EUR/);
  assert.match(await text(page, ".details"), /Decline code 51/);
  assert.ok(await page.$("#retry"), "another try is offered");
  assert.equal(await page.$("#refund"), null, "nothing to refund");
  await screenshot(page, "declined");
  result("payment", paymentId);
});
