// Integration tests of MessagingClient against our real room server.
import assert from "node:assert/strict";
import { RoomError, type RoomMessage } from "@meshagent/api";
import { connect, nextEvent, roomName, until, withServer } from "./testdata/test_room.ts";

Deno.test("sendMessage delivers the message and a binary attachment byte for byte", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "alice");
    const b = await connect(server, name, "bob");
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await until(() => a.getParticipantByName("bob") !== undefined, "bob in alice's presence");
      // every byte value, over several 1024-byte packets
      const attachment = new Uint8Array(5000);
      for (let i = 0; i < attachment.length; i++) attachment[i] = (i * 7 + 3) % 256;
      const got = nextEvent(b.events, "message", (m) => m.type === "file");
      await a.messaging.sendMessage({
        to: a.getParticipantByName("bob")!,
        type: "file",
        message: { name: "blob.bin", nested: { ok: true, list: [1, "two"] } },
        attachment,
      });
      const message = await got;
      assert.equal(message.fromParticipantId, a.localParticipant!.id);
      assert.deepEqual(message.message, {
        name: "blob.bin",
        nested: { ok: true, list: [1, "two"] },
      });
      assert.ok(message.attachment instanceof Uint8Array);
      assert.deepEqual(message.attachment, attachment);

      // without an attachment there is none on the other side; the id form of `to` works too
      const plain = nextEvent(b.events, "message", (m) => m.type === "plain");
      await a.messaging.sendMessage({
        to: b.localParticipant!.id,
        type: "plain",
        message: { x: 1 },
      });
      assert.equal((await plain).attachment, undefined);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

Deno.test("messages from one sender arrive in order", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "alice");
    const b = await connect(server, name, "bob");
    try {
      const seen: number[] = [];
      b.on("message", (m) => {
        if (m.type === "seq") seen.push(m.message.i as number);
      });
      const to = b.localParticipant!.id;
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => a.messaging.sendMessage({ to, type: "seq", message: { i } }),
        ),
      );
      await until(() => seen.length === 50, "50 messages");
      assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

Deno.test("broadcastMessage reaches every other enabled participant, not the sender", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "alice");
    const b = await connect(server, name, "bob");
    const c = await connect(server, name, "carol");
    try {
      for (const room of [a, b, c]) await room.messaging.enable();
      await until(() => a.remoteParticipants.length === 2, "alice sees two others");
      const own: RoomMessage[] = [];
      a.on("message", (m) => own.push(m));
      const atB = nextEvent(b.events, "message", (m) => m.type === "hello");
      const atC = nextEvent(c.events, "message", (m) => m.type === "hello");
      await a.messaging.broadcastMessage({
        type: "hello",
        message: { text: "hi all" },
        attachment: new Uint8Array([1, 2, 3]),
      });
      for (const m of [await atB, await atC]) {
        assert.equal(m.fromParticipantId, a.localParticipant!.id);
        assert.deepEqual(m.message, { text: "hi all" });
        assert.deepEqual(m.attachment, new Uint8Array([1, 2, 3]));
      }
      // a round trip later, the sender still got nothing
      const ping = nextEvent(a.events, "message", (m) => m.type === "ping");
      await b.messaging.sendMessage({ to: a.localParticipant!.id, type: "ping", message: {} });
      await ping;
      assert.deepEqual(own.map((m) => m.type), ["ping"]);
    } finally {
      await a.dispose();
      await b.dispose();
      await c.dispose();
    }
  });
});

Deno.test("sendMessage to an unknown participant rejects with code 1003", async () => {
  await withServer(async (server) => {
    const a = await connect(server, roomName(), "alice");
    try {
      await assert.rejects(
        a.messaging.sendMessage({ to: "no-such-participant", type: "x", message: {} }),
        (e: unknown) =>
          e instanceof RoomError && e.code === 1003 &&
          e.message === "the participant was not found",
      );
    } finally {
      await a.dispose();
    }
  });
});

Deno.test("disable hides this participant from the others", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "alice");
    const b = await connect(server, name, "bob");
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await until(() => a.getParticipantByName("bob") !== undefined, "bob visible");
      const removed = nextEvent(a.events, "participantRemoved", (p) => p.name === "bob");
      await b.messaging.disable();
      await removed;
      assert.equal(b.messaging.isEnabled, false);
      assert.equal(b.remoteParticipants.length, 0);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});
