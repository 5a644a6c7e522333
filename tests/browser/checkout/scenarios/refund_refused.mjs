// A till is a UI, and posd refuses refunds from a UI (operator role): the
// refund attempt is refused and the screen says so; the sale stays
// approved and nothing reaches the terminal.
import assert from "node:assert/strict";
import {
  addProduct, charge, openCheckout, result, run, screenshot, text, waitOutcome, waitTerminalReady,
} from "../lib/harness.mjs";

run(async (browser) => {
  const page = await openCheckout(browser);
  await waitTerminalReady(page);
  await addProduct(page, "sandwich");
  const paymentId = await charge(page);
  await waitOutcome(page, "approved");
  await page.click("#refund");
  await page.waitForSelector("#notice.refused", { timeout: 30000 });
  const notice = await text(page, "#notice");
  assert.match(notice, /^Refund refused \(PERMISSION_DENIED/);
  // Still approved: the refusal changed nothing.
  await waitOutcome(page, "approved");
  await screenshot(page, "refund-refused");
  result("payment", paymentId);
  result("notice", JSON.stringify(notice));
});
