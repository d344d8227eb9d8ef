// Integration tests of RoomClient against our real room server.
import assert from "node:assert/strict";
import { ConnectionClosedError, HandshakeRejectedError, RoomClient } from "@meshagent/api";
import { connect, nextEvent, roomName, until, withServer } from "./testdata/test_room.ts";

Deno.test("start: room info and the local participant", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const room = await connect(server, name, "alice");
    try {
      assert.equal(room.roomName, name);
      assert.ok(room.roomUrl?.endsWith(`/rooms/${name}`));
      assert.equal(typeof room.sessionId, "string");
      assert.ok(room.sessionId!.length > 0);
      assert.ok(room.localParticipant);
      assert.equal(room.localParticipant.name, "alice");
      assert.equal(room.localParticipant.getAttribute("name"), "alice");
      assert.ok(room.localParticipant.id.length > 0);
      assert.ok(room.isConnected);
    } finally {
      await room.dispose();
    }
  });
});

Deno.test("presence: each side sees the other after enabling messaging", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "alice");
    const b = await connect(server, name, "bob");
    try {
      await a.messaging.enable();
      const added = nextEvent(a.events, "participantAdded", (p) => p.name === "bob");
      await b.messaging.enable();
      const bob = await added;
      assert.equal(bob.id, b.localParticipant!.id);
      assert.equal(typeof bob.role, "string");
      assert.equal(b.getParticipantByName("alice")?.id, a.localParticipant!.id);
      assert.equal(a.getParticipantById(b.localParticipant!.id)?.name, "bob");
      assert.deepEqual(a.remoteParticipants.map((p) => p.name), ["bob"]);

      const removed = nextEvent(a.events, "participantRemoved", (p) => p.id === bob.id);
      await b.dispose();
      await removed;
      assert.equal(a.remoteParticipants.length, 0);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

Deno.test("attributes: a change is seen by the other side", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "alice");
    const b = await connect(server, name, "bob");
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await until(() => b.getParticipantByName("alice") !== undefined, "alice in bob's presence");
      const updated = nextEvent(b.events, "participantAttributesUpdated");
      a.localParticipant!.setAttribute("status", "busy");
      const event = await updated;
      assert.equal(event.participant.id, a.localParticipant!.id);
      assert.deepEqual(event.attributes, { status: "busy" });
      assert.equal(b.getParticipantByName("alice")!.getAttribute("status"), "busy");
      assert.equal(a.localParticipant!.getAttribute("status"), "busy");
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

Deno.test("reconnect after a server restart: attributes re-sent, messaging re-enabled", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const a = await connect(server, name, "alice");
    const b = await connect(server, name, "bob");
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      a.localParticipant!.setAttribute("status", "before");
      await until(
        () => b.getParticipantByName("alice")?.getAttribute("status") === "before",
        "bob sees alice's status",
      );
      const disconnected = nextEvent(a.events, "disconnected");
      const reconnectedA = nextEvent(a.events, "reconnected");
      const reconnectedB = nextEvent(b.events, "reconnected");
      await server.restart();
      await disconnected;
      // A change made while the connection is down is kept and sent with the snapshot.
      a.localParticipant!.setAttribute("mood", "patient");
      const event = await reconnectedA;
      await reconnectedB;
      assert.equal(event.participantId, a.localParticipant!.id);
      assert.ok(a.isConnected && b.isConnected);
      // The restarted server knows nothing of alice's attributes but what the client re-sent.
      await until(() => a.messaging.online && b.messaging.online, "messaging online again");
      await until(() => {
        const alice = b.getParticipantByName("alice");
        return alice?.getAttribute("status") === "before" &&
          alice?.getAttribute("mood") === "patient";
      }, "bob sees alice's re-sent attributes");
      assert.equal(a.getParticipantByName("bob")?.id, b.localParticipant!.id);
      // And the room works: a message across the new connections.
      const got = nextEvent(b.events, "message", (m) => m.type === "after-restart");
      await a.messaging.sendMessage({
        to: b.localParticipant!,
        type: "after-restart",
        message: { n: 1 },
      });
      assert.deepEqual((await got).message, { n: 1 });
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

Deno.test("dispose closes the socket, fails later requests and leaves nothing running", async () => {
  await withServer(async (server) => {
    const room = await connect(server, roomName(), "alice");
    const closed = nextEvent(room.events, "closed");
    await room.dispose();
    await closed;
    assert.ok(room.isClosed);
    assert.ok(!room.isConnected);
    await assert.rejects(room.queues.list(), ConnectionClosedError);
    await room.dispose(); // twice is fine
    // the test sanitizers check that no socket, timer or op is left behind
  });
});

Deno.test("a rejected token (403) fails start at once, without retrying", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const room = new RoomClient({
      url: server.roomUrl(name),
      token: await server.token("another-room", "mallory"),
      reconnectTimeout: 60_000, // a retried 403 would make this test time out below
    });
    const started = Date.now();
    await assert.rejects(
      room.start({ timeout: 10_000 }),
      (e: unknown) => e instanceof HandshakeRejectedError && e.status === 403,
    );
    assert.ok(room.isClosed);
    // Retrying would wait at least 0.5 s before a second attempt.
    assert.ok(Date.now() - started < 10_000);
  });
});

Deno.test("an expired token fails start with HandshakeRejectedError", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const room = new RoomClient({
      url: server.roomUrl(name),
      token: await server.token(name, "late", { expiresInSeconds: -60 }),
    });
    await assert.rejects(room.start({ timeout: 10_000 }), HandshakeRejectedError);
  });
});

Deno.test("the token travels in a header, a subprotocol or the query string", async () => {
  await withServer(async (server) => {
    const name = roomName();
    for (const tokenTransport of ["header", "subprotocol", "query"] as const) {
      const room = await connect(server, name, `via-${tokenTransport}`, { tokenTransport });
      try {
        assert.equal(room.localParticipant!.name, `via-${tokenTransport}`);
      } finally {
        await room.dispose();
      }
    }
  });
});

Deno.test("requests pending when the server goes away fail with ConnectionClosedError", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const room = await connect(server, name, "alice", { reconnectTimeout: 0 });
    try {
      const waiting = assert.rejects(
        room.queues.receive("nothing-here", { wait: true }),
        ConnectionClosedError,
      );
      await room.queues.list(); // the receive is pending on the server now
      const closed = nextEvent(room.events, "closed");
      await server.restart();
      await waiting;
      await closed; // reconnectTimeout 0: no reconnect
      assert.ok(room.isClosed);
    } finally {
      await room.dispose();
    }
  });
});
