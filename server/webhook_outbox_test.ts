import assert from "node:assert/strict";
import { WebhookServer } from "@meshagent/api";
import { WebhookOutbox } from "./webhook_outbox.ts";

/** A receiver on Deno.serve that answers with the statuses given, then 200. */
function receiver(statuses: number[] = [], secret = "s3cret", port = 0) {
  const events: string[] = [];
  const hooks = new WebhookServer({ secret });
  hooks.on("room.ended", (e) => void events.push(e.roomName));
  let calls = 0;
  const server = Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const status = statuses[calls++];
    if (status !== undefined) {
      await request.body?.cancel();
      return new Response("try later", { status });
    }
    return await hooks.fetch(request);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/webhook`,
    events,
    calls: () => calls,
    close: () => server.shutdown(),
  };
}

function receiverOn(port: number) {
  return receiver([], "s3cret", port);
}

const fast = { firstRetryMs: 20, maxRetryMs: 50, timeoutMs: 2000 };

Deno.test("WebhookOutbox: failures are retried until a 2xx; the signature verifies", async () => {
  const dir = await Deno.makeTempDir();
  const target = receiver([500, 503]);
  const outbox = WebhookOutbox.open(dir, fast);
  try {
    const id = outbox.enqueue({
      url: target.url,
      secret: "s3cret",
      event: "room.ended",
      data: { room_name: "demo" },
    });
    assert.deepEqual(await outbox.outcome(id, 10_000), { ok: true });
    assert.equal(target.calls(), 3);
    assert.deepEqual(target.events, ["demo"]);
    assert.deepEqual(outbox.deliveries(), []);
  } finally {
    await outbox.close();
    await target.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WebhookOutbox: a delivery is given up after maxAttempts and kept as failed", async () => {
  const dir = await Deno.makeTempDir();
  const target = receiver([], "another-secret"); // the signature never verifies: 401
  const given: string[] = [];
  const outbox = WebhookOutbox.open(dir, {
    ...fast,
    maxAttempts: 3,
    onGiveUp: (d) => given.push(d.lastError ?? ""),
  });
  try {
    const id = outbox.enqueue({
      url: target.url,
      secret: "s3cret",
      event: "room.ended",
      data: { room_name: "demo" },
    });
    const outcome = await outbox.outcome(id, 10_000);
    assert.equal(outcome.ok, false);
    assert.match(given[0], /HTTP 401/);
    assert.equal(target.calls(), 3);
    const [failed] = outbox.deliveries();
    assert.equal(failed.state, "failed");
    assert.equal(failed.attempts, 3);
    assert.deepEqual(target.events, []);
  } finally {
    await outbox.close();
    await target.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WebhookOutbox: what was not delivered is delivered by the next run", async () => {
  const dir = await Deno.makeTempDir();
  // A port nothing listens on yet (the receiver starts there only after the restart).
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const first = WebhookOutbox.open(dir, { ...fast, firstRetryMs: 100 });
  const id = first.enqueue({
    url: `http://127.0.0.1:${port}/webhook`,
    secret: "s3cret",
    event: "room.ended",
    data: { room_name: "r" },
  });
  assert.equal((await first.outcome(id, 50)).ok, false); // refused: still pending
  await first.close();
  async function run() {
    const second = WebhookOutbox.open(dir, fast);
    try {
      assert.deepEqual(await second.outcome(id, 10_000), { ok: true });
    } finally {
      await second.close();
    }
  }
  const up = receiverOn(port);
  try {
    await run();
    assert.deepEqual(up.events, ["r"]);
  } finally {
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WebhookOutbox: enqueue returns at once while the receiver hangs", async () => {
  const dir = await Deno.makeTempDir();
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (r) => {
    await release.promise;
    await r.body?.cancel();
    return Response.json({ ok: true });
  });
  const outbox = WebhookOutbox.open(dir, fast);
  try {
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(outbox.enqueue({
        url: `http://127.0.0.1:${server.addr.port}/`,
        secret: "",
        event: "room.ended",
        data: { room_name: `r${i}` },
      }));
    }
    // Nothing was delivered: every enqueue returned before any receiver answered.
    assert.equal(outbox.deliveries().length, 20);
    release.resolve();
    for (const id of ids) assert.deepEqual(await outbox.outcome(id, 10_000), { ok: true });
  } finally {
    await outbox.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WebhookOutbox: one URL gets its events in order, another URL is not held up", async () => {
  const dir = await Deno.makeTempDir();
  const arrived: string[] = [];
  // The slow receiver takes longer for earlier events: concurrent deliveries would reverse them.
  const slow = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const { data } = await request.json();
    await new Promise((resolve) => setTimeout(resolve, 40 - data.n * 4));
    arrived.push(`slow ${data.n}`);
    return new Response("ok");
  });
  const quick = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const { data } = await request.json();
    arrived.push(`quick ${data.n}`);
    return new Response("ok");
  });
  const outbox = WebhookOutbox.open(dir, fast);
  try {
    const ids: number[] = [];
    for (let n = 0; n < 8; n++) {
      ids.push(outbox.enqueue({
        url: `http://127.0.0.1:${slow.addr.port}/`,
        secret: "",
        event: "room.ended",
        data: { n },
      }));
    }
    ids.push(outbox.enqueue({
      url: `http://127.0.0.1:${quick.addr.port}/`,
      secret: "",
      event: "room.ended",
      data: { n: 0 },
    }));
    for (const id of ids) assert.deepEqual(await outbox.outcome(id, 10_000), { ok: true });
    const slowOrder = arrived.filter((a) => a.startsWith("slow"));
    assert.deepEqual(slowOrder, [0, 1, 2, 3, 4, 5, 6, 7].map((n) => `slow ${n}`));
    // The other URL's event did not wait for the eight slow ones.
    assert.ok(arrived.indexOf("quick 0") < arrived.indexOf("slow 7"), arrived.join(", "));
  } finally {
    await outbox.close();
    await slow.shutdown();
    await quick.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
