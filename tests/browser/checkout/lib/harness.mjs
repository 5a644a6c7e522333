// What every browser scenario shares: chromium through puppeteer-core, the
// checkout page and its diagnostics (window.posdCheckout), posd's /metrics,
// and the line protocol with the C++ test that started posd
// (scenario_process.h): `HOST <request>` out, one reply line in.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

export const baseUrl = required("POSD_HTTP_URL");
const chromium = process.env.POSD_CHROMIUM ?? "/usr/bin/chromium";
const profile = required("POSD_BROWSER_PROFILE");
// Set to write the screens' screenshots (docs/ui.md uses them).
const screenshotDir = process.env.POSD_SCREENSHOT_DIR ?? "";

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

export function log(message) {
  console.log(`[${new Date().toISOString().slice(11, 23)}] ${message}`);
}

const replies = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// Asks the C++ test to do something (stop-posd, start-posd, pay AMOUNT);
// its answer after "OK", or an error.
export async function host(request) {
  process.stdout.write(`HOST ${request}\n`);
  const { value, done } = await replies.next();
  if (done) throw new Error(`no answer to HOST ${request}`);
  if (!value.startsWith("OK")) throw new Error(`HOST ${request} failed: ${value}`);
  return value.slice(2).trim();
}

export function result(key, value) {
  console.log(`RESULT ${key}=${value}`);
}

const pageErrors = [];

export async function launch() {
  mkdirSync(profile, { recursive: true });
  return puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // A loaded build machine can take long to start chromium.
    timeout: 120000,
    protocolTimeout: 120000,
    userDataDir: profile,
    defaultViewport: { width: 1100, height: 720 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

// Opens the checkout in a new tab and waits until its event feed is
// connected. `sharedWorker: false` removes SharedWorker before the page's
// scripts run, as in a webview without it: the tabs then elect a leader.
export async function openCheckout(browser, { sharedWorker = true, name = "tab" } = {}) {
  const page = await browser.newPage();
  if (!sharedWorker) {
    await page.evaluateOnNewDocument(() => { delete globalThis.SharedWorker; });
  }
  page.on("pageerror", (error) => pageErrors.push(`${name}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") log(`${name} console error: ${message.text()}`);
  });
  const response = await page.goto(`${baseUrl}/ui/checkout/`, { waitUntil: "load" });
  // 304: a second tab revalidates the entry page (no-cache, strong ETag).
  assert.ok([200, 304].includes(response.status()), `the bundle host serves the checkout (${response.status()})`);
  await waitForPage(page, () => window.posdCheckout?.status.connected === true, `${name} connected`);
  return page;
}

export async function waitForPage(page, predicate, what, timeout = 30000, ...args) {
  try {
    await page.waitForFunction(predicate, { timeout, polling: 50 }, ...args);
  } catch (error) {
    throw new Error(`timed out waiting for ${what}: ${error.message}`);
  }
}

// Polls `condition` (async) until it holds; fails after `timeoutMs`.
export async function waitFor(condition, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await condition();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const status = (page) => page.evaluate(() => window.posdCheckout.status);
export const events = (page) => page.evaluate(() => window.posdCheckout.events);
export const feedMode = (page) => page.evaluate(() => window.posdCheckout.feedMode);
export const isLeader = (page) => page.evaluate(() => window.posdCheckout.isLeader);

export async function waitTerminalReady(page, deviceId = "counter-1") {
  await page.waitForSelector(`[data-device-id="${deviceId}"][data-state="READY"]`, { timeout: 30000 });
}

export async function addProduct(page, sku) {
  // Chromium does not run a hidden tab's rendering: act on the tab in front.
  await page.bringToFront();
  await page.click(`[data-sku="${sku}"]`);
}

export async function addCustomItem(page, name, price) {
  await page.bringToFront();
  await page.type("#custom-name", name);
  await page.type("#custom-price", price);
  await page.click("#add-custom");
}

export async function text(page, selector) {
  return page.$eval(selector, (element) => element.textContent ?? "");
}

// Taps Charge; the payment's id once the payment screen shows it.
export async function charge(page) {
  await page.waitForSelector("#charge:not([disabled])");
  await page.click("#charge");
  const screen = await page.waitForSelector('[data-screen="payment"]', { timeout: 30000 });
  return screen.evaluate((element) => element.getAttribute("data-payment-id"));
}

export async function waitOutcome(page, tone, timeout = 60000) {
  try {
    await page.waitForSelector(`[data-screen="payment"][data-outcome="${tone}"]`, { timeout });
  } catch (error) {
    const shown = await page.$eval("#screen", (element) => element.innerText).catch(() => "?");
    throw new Error(`outcome ${tone} not shown (${error.message}); screen says: ${shown}`);
  }
}

export async function screenshot(page, name) {
  if (screenshotDir === "") return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
  log(`screenshot ${name}.png`);
}

// posd's count of open WatchEvents streams from browsers (gRPC-Web).
export async function openWebStreams() {
  const response = await fetch(`${baseUrl}/metrics`);
  assert.equal(response.status, 200, "/metrics answers");
  const body = await response.text();
  const line = body.split("\n").find((candidate) =>
    candidate.startsWith("posd_watch_events_streams_open{") && candidate.includes('transport="grpc_web"'));
  assert.ok(line !== undefined, `no grpc_web WatchEvents gauge in /metrics:\n${body}`);
  return Number(line.trim().split(/\s+/).pop());
}

export async function waitOpenWebStreams(count, what) {
  await waitFor(async () => (await openWebStreams()) === count,
                `${what}: posd to hold ${count} gRPC-Web WatchEvents stream(s)`);
}

// The durable events of `records` must be numbered one after the other:
// nothing lost, nothing delivered twice.
export function assertDurableConsecutive(records, what) {
  const durable = records.filter((record) => record.durable).map((record) => BigInt(record.sequence));
  assert.ok(durable.length > 0, `${what}: no durable events`);
  for (let index = 1; index < durable.length; index++) {
    assert.equal(durable[index], durable[index - 1] + 1n,
                 `${what}: durable sequence ${durable[index - 1]} followed by ${durable[index]}`);
  }
  return durable;
}

// Runs `scenario(browser)` in a fresh chromium, closed however it ends.
export function run(scenario) {
  (async () => {
    const browser = await launch();
    try {
      await scenario(browser);
    } finally {
      await browser.close().catch(() => {});
    }
    if (pageErrors.length > 0) throw new Error(`errors in the page:\n${pageErrors.join("\n")}`);
  })().then(() => {
    log("scenario passed");
    process.exit(0);
  }).catch((error) => {
    console.error(`SCENARIO FAILED: ${error.stack ?? error}`);
    process.exit(1);
  });
}
