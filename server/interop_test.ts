// The official client @meshagent/meshagent 0.39.9 (CommonJS, untyped) against our server.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startTestServer, type TestServer } from "./testing.ts";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");

// deno-lint-ignore no-explicit-any
type OfficialRoom = any;

async function connect(server: TestServer, room: string, name: string): Promise<OfficialRoom> {
  const client = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl(room),
      token: await server.token(room, name),
    }),
    reconnectTimeout: 0,
  });
  client.ready.catch(() => {}); // see /tmp/official_client_notes.md §8
  await client.start();
  return client;
}

async function dispose(client: OfficialRoom): Promise<void> {
  client.dispose();
  await client.waitForClose();
}

function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const value = check();
      if (value !== undefined) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out: ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

Deno.test("official client: connects and sees room_ready + connected", async () => {
  const server = await startTestServer();
  try {
    const room = await connect(server, "interop-a", "alice");
    assert.equal(room.roomName, "interop-a");
    assert.equal(typeof room.sessionId, "string");
    assert.equal(room.localParticipant.getAttribute("name"), "alice");
    await dispose(room);
  } finally {
    await server.close();
  }
});

Deno.test("official client: messaging between two clients, with an attachment", async () => {
  const server = await startTestServer();
  try {
    const alice = await connect(server, "interop-m", "alice");
    const bob = await connect(server, "interop-m", "bob");
    // deno-lint-ignore no-explicit-any
    const inbox: any[] = [];
    // deno-lint-ignore no-explicit-any
    bob.messaging.on("message", (event: any) => inbox.push(event.message));
    alice.messaging.enable();
    bob.messaging.enable();
    const remoteBob = await waitFor(
      "alice sees bob",
      () => alice.messaging.getParticipantByName("bob") ?? undefined,
    );
    assert.equal(remoteBob.id, bob.localParticipant.id);

    const attachment = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
    await alice.messaging.sendMessage({
      to: remoteBob,
      type: "chat",
      message: { text: "hi" },
      attachment,
    });
    await alice.messaging.broadcastMessage({ type: "news", message: { n: 1 } });
    const chat = await waitFor("bob gets chat", () => inbox.find((m) => m.type === "chat"));
    assert.equal(chat.fromParticipantId, alice.localParticipant.id);
    assert.deepEqual(chat.message, { text: "hi" });
    assert.deepEqual(new Uint8Array(chat.attachment), attachment);
    const news = await waitFor("bob gets news", () => inbox.find((m) => m.type === "news"));
    assert.deepEqual(news.message, { n: 1 });

    // Attributes fan out to the other enabled client.
    alice.localParticipant.setAttribute("status", "busy");
    await waitFor(
      "bob sees alice's status",
      () => bob.messaging.getParticipantByName("alice")?.getAttribute("status") ?? undefined,
    );

    await dispose(bob);
    await waitFor(
      "alice sees bob leave",
      () => alice.messaging.getParticipantByName("bob") ? undefined : true,
    );
    await dispose(alice);
  } finally {
    await server.close();
  }
});

Deno.test("official client: queues send / receive / list", async () => {
  const server = await startTestServer();
  try {
    const alice = await connect(server, "interop-q", "alice");
    const bob = await connect(server, "interop-q", "bob");
    const waiting = bob.queues.receive("jobs", { wait: true });
    await alice.queues.send("jobs", { n: 1 }, {});
    assert.deepEqual(await waiting, { n: 1 });
    await alice.queues.send("jobs", { n: 2 }, {});
    const list = await alice.queues.list();
    assert.equal(list.length, 1);
    assert.equal(list[0].name, "jobs");
    assert.equal(list[0].size, 1);
    assert.deepEqual(await bob.queues.receive("jobs", { wait: false }), { n: 2 });
    assert.equal(await bob.queues.receive("jobs", { wait: false }), null);
    await alice.queues.drain("jobs");
    await dispose(alice);
    await dispose(bob);
  } finally {
    await server.close();
  }
});

Deno.test("official client: developer logs stream", async () => {
  const server = await startTestServer();
  try {
    const alice = await connect(server, "interop-d", "alice");
    const bob = await connect(server, "interop-d", "bob");
    const stream = alice.developer.logs()[Symbol.asyncIterator]();
    const first = stream.next();
    // The subscription is registered once the invoke is answered; retry the log until it shows.
    let got;
    for (let i = 0; i < 50 && !got; i++) {
      await bob.developer.log("info", { k: "v" });
      got = await Promise.race([first, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    }
    // deno-lint-ignore no-explicit-any
    const event = (got as any).value;
    assert.equal(event.type, "info");
    assert.deepEqual(event.data, { k: "v" });
    await stream.return?.();
    await dispose(alice);
    await dispose(bob);
  } finally {
    await server.close();
  }
});
