import assert from "node:assert/strict";
import { EmptyContent, JsonContent } from "@meshagent/api";
import { TestClient } from "./_test_helpers.ts";
import { startTestServer, type TestServer } from "./testing.ts";

async function join(server: TestServer, room: string, name: string) {
  return await TestClient.connect(server.roomUrl(room), await server.token(room, name));
}

Deno.test("queues: send then receive on another participant; wait:false on empty → empty", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "q1", "alice");
    const b = await join(server, "q1", "bob");
    const sent = await a.invoke("queues", "send", {
      name: "jobs",
      create: true,
      message: { n: 1 },
    });
    assert.ok(sent instanceof EmptyContent);
    const got = await b.invoke("queues", "receive", { name: "jobs", create: true, wait: false });
    assert.ok(got instanceof JsonContent);
    assert.deepEqual(got.json, { n: 1 });
    const none = await b.invoke("queues", "receive", { name: "jobs", create: true, wait: false });
    assert.ok(none instanceof EmptyContent);
    await assert.rejects(
      b.invoke("queues", "receive", { name: "missing", create: false, wait: false }),
      { code: 5001 },
    );
    await assert.rejects(
      a.invoke("queues", "send", { name: "missing", create: false, message: {} }),
      { code: 5001 },
    );
    await assert.rejects(a.invoke("queues", "send", { name: "", message: {} }), { code: 1002 });
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});

Deno.test("queues: a waiting receive resolves when a later send arrives; waiters are FIFO", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "q2", "alice");
    const b = await join(server, "q2", "bob");
    const c = await join(server, "q2", "carol");
    const first = b.invoke("queues", "receive", { name: "w", create: true, wait: true });
    // A round trip on the waiter's own socket makes sure its receive is registered first.
    await b.invoke("queues", "list");
    const second = c.invoke("queues", "receive", { name: "w", create: true, wait: true });
    await c.invoke("queues", "list");
    // create:false succeeds: the waiting receive created the queue.
    await a.invoke("queues", "send", { name: "w", create: false, message: { n: 1 } });
    await a.invoke("queues", "send", { name: "w", create: false, message: { n: 2 } });
    assert.deepEqual(((await first) as JsonContent).json, { n: 1 });
    assert.deepEqual(((await second) as JsonContent).json, { n: 2 });
    const list = (await a.invoke("queues", "list")) as JsonContent;
    assert.deepEqual(list.json, { queues: [{ name: "w", size: 0 }] });
    for (const x of [a, b, c]) await x.close();
  } finally {
    await server.close();
  }
});

Deno.test("queues: list shape, open/drain/close; close fails waiters with 1006", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "q3", "alice");
    const b = await join(server, "q3", "bob");
    assert.ok((await a.invoke("queues", "open", { name: "b-queue" })) instanceof EmptyContent);
    await a.invoke("queues", "send", { name: "a-queue", message: 1 });
    await a.invoke("queues", "send", { name: "a-queue", message: "two" });
    const list = (await a.invoke("queues", "list")) as JsonContent;
    assert.deepEqual(list.json, {
      queues: [{ name: "a-queue", size: 2 }, { name: "b-queue", size: 0 }],
    });
    assert.ok((await a.invoke("queues", "drain", { name: "a-queue" })) instanceof EmptyContent);
    assert.deepEqual(((await a.invoke("queues", "list")) as JsonContent).json, {
      queues: [{ name: "a-queue", size: 0 }, { name: "b-queue", size: 0 }],
    });

    const waiting = b.invoke("queues", "receive", { name: "b-queue", wait: true });
    await b.invoke("queues", "list");
    assert.ok((await a.invoke("queues", "close", { name: "b-queue" })) instanceof EmptyContent);
    await assert.rejects(waiting, { code: 1006 });
    await assert.rejects(a.invoke("queues", "send", { name: "b-queue", message: 1 }), {
      code: 1006,
    });
    await a.invoke("queues", "open", { name: "b-queue" });
    await a.invoke("queues", "send", { name: "b-queue", message: 3 });
    assert.deepEqual(
      ((await b.invoke("queues", "receive", { name: "b-queue", wait: false })) as JsonContent).json,
      3,
    );
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});

Deno.test("queues: a receiver that disconnects consumes nothing", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "q4", "alice");
    const b = await join(server, "q4", "bob");
    const lost = b.invoke("queues", "receive", { name: "d", wait: true }).catch((e) => e);
    await b.invoke("queues", "list");
    await b.close();
    await lost;
    await a.invoke("queues", "send", { name: "d", message: { kept: true } });
    const got = await a.invoke("queues", "receive", { name: "d", wait: false });
    assert.deepEqual((got as JsonContent).json, { kept: true });
    await a.close();
  } finally {
    await server.close();
  }
});

Deno.test("queues: queued messages survive a server restart", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "durable", "alice");
    for (let n = 0; n < 3; n++) {
      await a.invoke("queues", "send", { name: "keep", message: { n } });
    }
    await server.restart();
    await a.closed;
    const b = await join(server, "durable", "bob");
    const list = (await b.invoke("queues", "list")) as JsonContent;
    assert.deepEqual(list.json, { queues: [{ name: "keep", size: 3 }] });
    for (let n = 0; n < 3; n++) {
      const got = await b.invoke("queues", "receive", { name: "keep", wait: false });
      assert.deepEqual((got as JsonContent).json, { n });
    }
    await b.close();
    const files = [...Deno.readDirSync(`${server.dataDir}/rooms/durable`)].map((e) => e.name);
    assert.ok(files.includes("queues.sqlite"));
  } finally {
    await server.close();
  }
});
