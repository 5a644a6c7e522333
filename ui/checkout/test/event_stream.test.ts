// The resumable stream against an in-memory posd (connect's router
// transport serving the generated services): where it starts, how it
// resumes after a break, and what it does when the database is replaced.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { createPosdClients } from "../src/api/client";
import { ResumableEventStream } from "../src/feed/event_stream";
import type { FeedStatus } from "../src/feed/protocol";
import { AdminService } from "../src/gen/posd/v1/admin_pb";
import { ErrorInfoSchema, ErrorReason } from "../src/gen/posd/v1/errors_pb";
import { EventKind, EventSchema, EventService, type WatchEventsRequest } from "../src/gen/posd/v1/events_pb";

const durable = (sequence: bigint) => create(EventSchema, { sequence, durable: true, kind: EventKind.ORDER_CHANGED });
const live = (sequence: bigint) => create(EventSchema, { sequence, durable: false, kind: EventKind.DEVICE_CHANGED });

interface FakePosd {
  instanceId: string;
  head: bigint;
  // One script per WatchEvents call: events to send, then how it ends.
  streams: Array<{ events: ReturnType<typeof durable>[]; end: ConnectError | "hang" }>;
  watchRequests: WatchEventsRequest[];
}

function fakeTransport(posd: FakePosd) {
  return createRouterTransport((router) => {
    router.service(AdminService, {
      getServerInfo: () => ({ instanceId: posd.instanceId, version: "test" }),
      getConfig: () => { throw new ConnectError("unused", Code.Unimplemented); },
      setLogLevel: () => { throw new ConnectError("unused", Code.Unimplemented); },
    });
    router.service(EventService, {
      listEvents: () => ({ headSequence: posd.head }),
      async *watchEvents(request, context) {
        posd.watchRequests.push(request);
        if (posd.instanceId !== request.instanceId && request.instanceId !== "") {
          throw new ConnectError("other database", Code.FailedPrecondition, undefined,
            [{ desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: ErrorReason.INSTANCE_MISMATCH }) }]);
        }
        const script = posd.streams.shift() ?? { events: [], end: "hang" as const };
        for (const event of script.events) yield event;
        if (script.end === "hang") {
          await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
          return;
        }
        throw script.end;
      },
    });
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), what);
}

test("starts at the head, resumes after a break from the last sequence, delivers each event once", async () => {
  const posd: FakePosd = {
    instanceId: "db-1", head: 5n, watchRequests: [],
    streams: [
      { events: [durable(6n), live(6n), durable(7n)], end: new ConnectError("posd going away", Code.Unavailable) },
      // After the reconnect posd replays 7 (as if the first stream's
      // position were older) and goes on.
      { events: [durable(7n), durable(8n)], end: "hang" },
    ],
  };
  const delivered: string[] = [];
  const statuses: FeedStatus[] = [];
  const stream = new ResumableEventStream(createPosdClients(fakeTransport(posd)), {
    event: (event) => delivered.push(`${event.sequence}${event.durable ? "" : "L"}`),
    status: (status) => statuses.push(status),
  }, { maxBackoffMs: 10 });
  stream.start();
  await until(() => delivered.length >= 4, "four events delivered");
  stream.stop();
  assert.deepEqual(delivered, ["6", "6L", "7", "8"]);
  assert.equal(posd.watchRequests[0].sinceSequence, 5n);
  assert.equal(posd.watchRequests[0].instanceId, "db-1");
  assert.equal(posd.watchRequests[1].sinceSequence, 7n);
  assert.equal(stream.resumePoint, 8n);
  assert.ok(statuses.some((status) => status.connected && status.streamOpens === 2));
});

test("a replaced database restarts at its head and counts a reset", async () => {
  const posd: FakePosd = {
    instanceId: "db-1", head: 3n, watchRequests: [],
    streams: [{ events: [durable(4n)], end: new ConnectError("restart", Code.Unavailable) }],
  };
  const statuses: FeedStatus[] = [];
  const delivered: bigint[] = [];
  const stream = new ResumableEventStream(createPosdClients(fakeTransport(posd)), {
    event: (event) => {
      delivered.push(event.sequence);
      // The database is replaced while the first stream runs.
      posd.instanceId = "db-2";
      posd.head = 1n;
      posd.streams.push({ events: [durable(2n)], end: "hang" });
    },
    status: (status) => statuses.push(status),
  }, { maxBackoffMs: 10 });
  stream.start();
  await until(() => delivered.length >= 2, "an event of the new database");
  stream.stop();
  assert.deepEqual(delivered, [4n, 2n]);
  const last = statuses[statuses.length - 1];
  assert.equal(last.instanceId, "db-2");
  assert.ok(last.resets >= 1);
  assert.equal(posd.watchRequests[posd.watchRequests.length - 1].sinceSequence, 1n);
});

test("posd not answering keeps the stream down with the reason, and never connected", async () => {
  const transport = createRouterTransport((router) => {
    router.service(AdminService, {
      getServerInfo: () => { throw new ConnectError("starting", Code.Unavailable); },
      getConfig: () => { throw new ConnectError("unused", Code.Unimplemented); },
      setLogLevel: () => { throw new ConnectError("unused", Code.Unimplemented); },
    });
  });
  const statuses: FeedStatus[] = [];
  const stream = new ResumableEventStream(createPosdClients(transport), {
    event: () => assert.fail("no events"),
    status: (status) => statuses.push(status),
  }, { maxBackoffMs: 10 });
  stream.start();
  await until(() => statuses.length >= 2, "two failed attempts");
  stream.stop();
  assert.ok(statuses.every((status) => !status.connected && !status.everConnected));
  assert.match(statuses[0].detail, /^UNAVAILABLE: starting/);
});
