// Integration tests of QueuesClient against our real room server.
import assert from "node:assert/strict";
import { RoomError } from "@meshagent/api";
import { connect, roomName, withServer } from "./testdata/test_room.ts";

Deno.test("send then receive on another participant returns the message", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "producer");
    const b = await connect(server, name, "consumer");
    try {
      await a.queues.send("jobs", { id: 1, tags: ["x"], nested: { ok: true } });
      assert.deepEqual(await b.queues.receive("jobs"), {
        id: 1,
        tags: ["x"],
        nested: { ok: true },
      });
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

Deno.test("a waiting receive resolves when a message is sent later", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "producer");
    const b = await connect(server, name, "consumer");
    try {
      let done = false;
      const waiting = b.queues.receive<{ n: number }>("later", { wait: true }).then((m) => {
        done = true;
        return m;
      });
      // the receive is pending on the server (a round trip proves the server saw it)
      await b.queues.list();
      assert.equal(done, false);
      await a.queues.send("later", { n: 42 }, { create: false });
      assert.deepEqual(await waiting, { n: 42 });
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

Deno.test("receive with wait:false on an empty queue gives null", async () => {
  await withServer(async (server) => {
    const a = await connect(server, roomName(), "alice");
    try {
      assert.equal(await a.queues.receive("empty", { wait: false }), null);
    } finally {
      await a.dispose();
    }
  });
});

Deno.test("list shows queues with sizes; drain empties; messages come out in order", async () => {
  await withServer(async (server) => {
    const a = await connect(server, roomName(), "alice");
    try {
      await a.queues.open("opened");
      for (let i = 0; i < 3; i++) await a.queues.send("three", { i });
      const list = await a.queues.list();
      const sizes = Object.fromEntries(list.map((q) => [q.name, q.size]));
      assert.equal(sizes.three, 3);
      assert.equal(sizes.opened, 0);
      assert.deepEqual(await a.queues.receive("three", { wait: false }), { i: 0 });
      assert.deepEqual(await a.queues.receive("three", { wait: false }), { i: 1 });
      await a.queues.drain("three");
      assert.equal(await a.queues.receive("three", { wait: false }), null);
    } finally {
      await a.dispose();
    }
  });
});

Deno.test("send with create:false to a missing queue rejects; receive can stop waiting", async () => {
  await withServer(async (server) => {
    const a = await connect(server, roomName(), "alice");
    try {
      await assert.rejects(
        a.queues.send("missing", { x: 1 }, { create: false }),
        (e: unknown) => e instanceof RoomError && e.code === 5001,
      );
      await assert.rejects(
        a.queues.receive("quiet", { timeout: 50 }),
        (e: unknown) => e instanceof RoomError && e.code === 1009,
      );
    } finally {
      await a.dispose();
    }
  });
});

Deno.test("close fails a waiting receive", async () => {
  await withServer(async (server) => {
    const a = await connect(server, roomName(), "alice");
    try {
      await a.queues.open("closing");
      const waiting = a.queues.receive("closing", { create: false });
      await a.queues.list();
      await a.queues.close("closing");
      await assert.rejects(waiting, (e: unknown) => e instanceof RoomError && e.code === 1006);
    } finally {
      await a.dispose();
    }
  });
});
