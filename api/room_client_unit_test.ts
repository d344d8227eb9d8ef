// RoomClient against an in-memory fake room (no server): readiness, attributes, presence and
// message decoding. The integration tests against the real server are in room_client_test.ts.
import assert from "node:assert/strict";
import { EmptyContent, ErrorContent, JsonContent } from "./content.ts";
import { ConnectionClosedError, RoomError } from "./errors.ts";
import { type JsonObject, unpackMessage } from "./packing.ts";
import { Protocol } from "./protocol.ts";
import { RoomClient } from "./room_client.ts";
import type { RemoteParticipant } from "./participant.ts";
import type { RoomMessage } from "./room_event.ts";

interface Fake {
  client: Protocol;
  server: Protocol;
  sent: { type: string; header: JsonObject; payload: Uint8Array }[];
  invokes: JsonObject[];
}

function fake(): Fake {
  const peer: { client?: Protocol; server?: Protocol } = {};
  const client = new Protocol({
    send: (f) => queueMicrotask(() => peer.server!.receive(f.slice())),
    close: (code, reason) => queueMicrotask(() => peer.server!.closed(code, reason)),
  });
  const server = new Protocol({
    send: (f) => queueMicrotask(() => client.receive(f.slice())),
    close: (code, reason) => queueMicrotask(() => client.closed(code, reason)),
  });
  peer.server = server;
  const sent: Fake["sent"] = [];
  const invokes: JsonObject[] = [];
  server.onUnhandled((m) => {
    const { header, payload } = unpackMessage(m.data);
    sent.push({ type: m.type, header, payload });
  });
  server.on("room.invoke_tool", (m) => {
    const { header } = unpackMessage(m.data);
    invokes.push(header);
    const args = (header.arguments as { json?: JsonObject }).json ?? {};
    if (
      header.toolkit === "messaging" && header.tool === "send" &&
      args.to_participant_id === "nobody"
    ) {
      server.respond(m.id, new ErrorContent("the participant was not found", 1003));
      return;
    }
    server.respond(m.id, new EmptyContent());
  });
  return { client, server, sent, invokes };
}

function ready(server: Protocol, id = "p-1", order: "ready-first" | "init-first" = "ready-first") {
  const roomReady = () =>
    server.sendPacked("room_ready", {
      room_name: "demo",
      room_url: "ws://x/rooms/demo",
      session_id: "s-1",
    });
  const init = () =>
    server.sendPacked("connected", {
      type: "init",
      participantId: id,
      attributes: { name: "alice" },
    });
  if (order === "ready-first") {
    roomReady();
    init();
  } else {
    init();
    roomReady();
  }
}

function messagingSend(server: Protocol, header: JsonObject, payload?: Uint8Array) {
  server.sendPacked("messaging.send", header, payload);
}

const tick = () => new Promise((r) => setTimeout(r, 2));

for (const order of ["ready-first", "init-first"] as const) {
  Deno.test(`start resolves after room_ready and connected (${order})`, async () => {
    const { client, server } = fake();
    const room = new RoomClient({ protocol: client });
    let started = false;
    const start = room.start().then(() => started = true);
    await tick();
    assert.equal(started, false);
    server.sendPacked("connected", { type: "other" }); // ignored
    ready(server, "p-1", order);
    await start;
    assert.equal(room.roomName, "demo");
    assert.equal(room.roomUrl, "ws://x/rooms/demo");
    assert.equal(room.sessionId, "s-1");
    assert.equal(room.localParticipant?.id, "p-1");
    assert.equal(room.localParticipant?.name, "alice");
    assert.ok(room.isConnected);
    await room.dispose();
    assert.ok(room.isClosed);
  });
}

Deno.test("a close before the room is ready rejects start", async () => {
  const { client, server } = fake();
  const room = new RoomClient({ protocol: client });
  const start = room.start();
  server.sendPacked("room_ready", { room_name: "demo", room_url: "", session_id: "" });
  await tick();
  server.close(1000, "room shut down");
  await assert.rejects(
    start,
    (e: unknown) =>
      e instanceof ConnectionClosedError && /before the room became ready/.test(e.message),
  );
});

Deno.test("start honours its abort signal", async () => {
  const { client } = fake();
  const room = new RoomClient({ protocol: client });
  const controller = new AbortController();
  const start = room.start({ signal: controller.signal });
  controller.abort(new Error("gave up"));
  await assert.rejects(start, /gave up/);
  assert.ok(room.isClosed);
});

Deno.test("setAttribute sends set_attributes with the partial map", async () => {
  const { client, server, sent } = fake();
  const room = new RoomClient({ protocol: client });
  const start = room.start();
  ready(server);
  await start;
  room.localParticipant!.setAttribute("status", "ready");
  room.localParticipant!.setAttributes({ a: 1, b: [2] });
  await tick();
  const attrs = sent.filter((s) => s.type === "set_attributes").map((s) => s.header);
  assert.deepEqual(attrs, [{ status: "ready" }, { a: 1, b: [2] }]);
  assert.equal(room.localParticipant!.getAttribute("status"), "ready");
  await room.dispose();
});

Deno.test("presence: snapshot, deltas, attributes; messages carry attachments", async () => {
  const { client, server, invokes } = fake();
  const room = new RoomClient({ protocol: client });
  const start = room.start();
  ready(server);
  await start;

  const added: string[] = [];
  const removed: string[] = [];
  const updated: JsonObject[] = [];
  const messages: RoomMessage[] = [];
  room.on("participantAdded", (p) => added.push(p.id));
  room.on("participantRemoved", (p) => removed.push(p.id));
  room.on("participantAttributesUpdated", (e) => updated.push(e.attributes));
  room.on("message", (m) => messages.push(m));

  // presence before messaging.enabled does not count
  messagingSend(server, {
    from_participant_id: "p-9",
    type: "participant.enabled",
    message: { id: "p-9", role: "user", attributes: { name: "early" } },
  });
  const enabling = room.messaging.enable();
  await tick();
  assert.equal(room.messaging.online, false);
  assert.equal(room.remoteParticipants.length, 0);
  messagingSend(server, {
    from_participant_id: "p-1",
    type: "messaging.enabled",
    message: { participants: [{ id: "p-2", role: "agent", attributes: { name: "bob" } }] },
  });
  await enabling;
  assert.ok(room.messaging.online);
  assert.equal(invokes.at(-1)!.tool, "enable");
  assert.deepEqual(invokes.at(-1)!.arguments, { type: "json", json: {} });
  assert.equal(room.getParticipantByName("bob")?.id, "p-2");
  assert.equal(room.getParticipantById("p-2")?.role, "agent");

  messagingSend(server, {
    from_participant_id: "p-3",
    type: "participant.enabled",
    message: { id: "p-3", role: "user", attributes: { name: "carol" } },
  });
  messagingSend(server, {
    from_participant_id: "p-3",
    type: "participant.attributes",
    message: { attributes: { mood: "happy" } },
  });
  messagingSend(server, {
    from_participant_id: "p-2",
    type: "participant.disabled",
    message: { id: "p-2" },
  });
  const bytes = new Uint8Array([0, 255, 1, 254]);
  messagingSend(
    server,
    { from_participant_id: "p-3", type: "chat", message: { text: "hi" } },
    bytes,
  );
  messagingSend(server, {
    from_participant_id: "p-3",
    type: "chat",
    message: { text: "no attachment" },
  });
  await tick();

  assert.deepEqual(added, ["p-2", "p-3"]);
  assert.deepEqual(removed, ["p-2"]);
  assert.deepEqual(updated, [{ mood: "happy" }]);
  const carol = room.getParticipantByName("carol") as RemoteParticipant;
  assert.equal(carol.getAttribute("mood"), "happy");
  assert.deepEqual(room.remoteParticipants.map((p) => p.id), ["p-3"]);
  assert.equal(messages.length, 2);
  assert.deepEqual(messages[0], {
    fromParticipantId: "p-3",
    type: "chat",
    message: { text: "hi" },
    attachment: bytes,
  });
  assert.equal(messages[1].attachment, undefined);
  await room.dispose();
});

Deno.test("sendMessage sends message_json and base64; an unknown recipient rejects with 1003", async () => {
  const { client, server, invokes } = fake();
  const room = new RoomClient({ protocol: client });
  const start = room.start();
  ready(server);
  await start;
  await room.messaging.sendMessage({
    to: "p-2",
    type: "chat",
    message: { text: "hi" },
    attachment: new Uint8Array([104, 105]),
  });
  const args = (invokes.at(-1)!.arguments as { json: JsonObject }).json;
  assert.deepEqual(args, {
    to_participant_id: "p-2",
    type: "chat",
    message_json: '{"text":"hi"}',
    attachment_base64: "aGk=",
  });
  await room.messaging.broadcastMessage({ type: "note", message: {} });
  assert.deepEqual((invokes.at(-1)!.arguments as { json: JsonObject }).json, {
    type: "note",
    message_json: "{}",
  });
  await assert.rejects(
    room.messaging.sendMessage({ to: "nobody", type: "chat", message: {} }),
    (e: unknown) => e instanceof RoomError && e.code === 1003,
  );
  await room.dispose();
});

Deno.test("requests after dispose fail with ConnectionClosedError", async () => {
  const { client, server } = fake();
  const room = new RoomClient({ protocol: client });
  const start = room.start();
  ready(server);
  await start;
  await room.dispose();
  await assert.rejects(room.queues.list(), ConnectionClosedError);
});

Deno.test("agents.listToolkits parses maps and lists; invokeTool returns JsonContent", async () => {
  const { client, server } = fake();
  server.on("room.list_toolkits", (m) => {
    const { header } = unpackMessage(m.data);
    server.respond(
      m.id,
      new JsonContent({
        tools: {
          math: {
            title: "Math",
            description: "numbers",
            participant_id: header.participant_id ?? "p-7",
            annotations: { "meshagent.tool_search": "true", bad: 1 },
            tools: [{
              name: "sum",
              title: "Sum",
              description: "adds",
              input_schema: { type: "object" },
            }],
          },
        },
      }),
    );
  });
  const room = new RoomClient({ protocol: client });
  const start = room.start();
  ready(server);
  await start;
  const kits = await room.agents.listToolkits({ participantId: "p-8", timeout: 1 });
  assert.equal(kits.length, 1);
  assert.equal(kits[0].name, "math");
  assert.equal(kits[0].participantId, "p-8");
  assert.deepEqual(kits[0].annotations, { "meshagent.tool_search": "true" });
  assert.deepEqual(kits[0].tools[0].inputSpec, {
    types: ["json"],
    stream: false,
    schema: { type: "object" },
  });
  await room.dispose();
});

Deno.test("start gives up after its timeout when the room never gets ready", async () => {
  const { client } = fake();
  const room = new RoomClient({ protocol: client });
  await assert.rejects(
    room.start({ timeout: 30 }),
    (e: unknown) => e instanceof RoomError && e.code === 1009,
  );
  assert.ok(room.isClosed);
});

Deno.test("start twice is an error", async () => {
  const { client, server } = fake();
  const room = new RoomClient({ protocol: client });
  const start = room.start();
  ready(server);
  await start;
  await assert.rejects(room.start(), (e: unknown) => e instanceof RoomError && e.code === 1006);
  await room.dispose();
});

Deno.test("handlers of one message type run in order, each awaited; the first error is reported", async () => {
  const { client, server } = fake();
  const errors: unknown[] = [];
  client.onError((e) => errors.push(e));
  const room = new RoomClient({ protocol: client });
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  room.onMessage("custom.event", () => {
    log.push("a");
  });
  room.onMessage("custom.event", async () => {
    log.push("b start");
    await gate;
    log.push("b end");
    throw new Error("b failed");
  });
  room.onMessage("custom.event", () => {
    log.push("c");
    throw new Error("c failed");
  });
  server.sendPacked("custom.event", {});
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(log, ["a", "b start"]);
  release();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(log, ["a", "b start", "b end", "c"]);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /b failed/);
  // Synchronous handlers run within the dispatch.
  const off = room.onMessage("custom.sync", () => {
    throw new Error("sync failed");
  });
  server.sendPacked("custom.sync", {});
  await new Promise((r) => setTimeout(r, 0));
  assert.match(String(errors[1]), /sync failed/);
  off();
  await room.dispose();
});
