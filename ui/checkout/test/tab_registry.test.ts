import assert from "node:assert/strict";
import { test } from "node:test";
import { TAB_TIMEOUT_MS } from "../src/feed/protocol";
import { TabRegistry } from "../src/feed/tab_registry";

test("a tab that stops sending heartbeats is forgotten; one that says goodbye at once", () => {
  let now = 1000;
  const tabs = new TabRegistry<string>(() => now);
  assert.equal(tabs.seen("a", "port-a"), true);
  assert.equal(tabs.seen("b", "port-b"), true);
  assert.equal(tabs.seen("a", "port-a"), false);
  assert.equal(tabs.size, 2);

  now += TAB_TIMEOUT_MS - 1;
  tabs.seen("a", "port-a");
  assert.deepEqual(tabs.sweep(), []);
  now += 2;
  assert.deepEqual(tabs.sweep(), ["b"]);
  assert.deepEqual(tabs.handles(), ["port-a"]);

  assert.equal(tabs.removeHandle("port-a"), true);
  assert.equal(tabs.removeHandle("port-a"), false);
  assert.equal(tabs.size, 0);
});
