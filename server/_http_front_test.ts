// The room server's node:http + ws front: HTTP edge cases, handshakes that do not complete,
// keep-alive pings and listen errors, each through a real server on loopback.
import assert from "node:assert/strict";
import {
  ApiScope,
  generateApiKey,
  JsonContent,
  PacketAssembler,
  ParticipantToken,
  unpackMessage,
} from "@meshagent/api";
import { WebSocket as WS } from "ws";
import { handshake, TestClient } from "./_test_helpers.ts";
import { RoomServer, type RoomServerOptions } from "./room_server.ts";
import { startTestServer } from "./testing.ts";

/** Sends raw bytes on a fresh TCP connection and returns everything the server sent back. */
async function rawExchange(port: number, bytes: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 5000);
  try {
    await conn.write(new TextEncoder().encode(bytes));
    let text = "";
    const buf = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return text;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/** A room server with its own key and data folder, options as given, and a token maker. */
async function listen(options: Partial<RoomServerOptions> = {}) {
  const dataDir = await Deno.makeTempDir();
  const key = generateApiKey();
  const server = await RoomServer.listen({ port: 0, dataDir, keys: [key], ...options });
  return {
    server,
    url: (room: string) => `ws://127.0.0.1:${server.port}/rooms/${room}`,
    token: (room: string, name: string) =>
      new ParticipantToken({ name }).addRoomGrant(room).addApiGrant(ApiScope.agentDefault())
        .toJwt({ apiKey: key.key }),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

Deno.test("HEAD / has the banner's headers and no body; a malformed request gets 400", async () => {
  const server = await startTestServer();
  try {
    const head = await fetch(server.url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.match(head.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await head.arrayBuffer()).byteLength, 0);

    const port = Number(new URL(server.url).port);
    const garbage = await rawExchange(port, "NOT HTTP AT ALL\r\n\r\n");
    assert.match(garbage, /^HTTP\/1\.1 400/);
    // The server is unharmed.
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("an upgrade that fails after admission leaves no room behind", async () => {
  await using room = await listen();
  const server = room.server;
  const jwt = await room.token("half-open", "alice");
  const request = (extra: string[]) =>
    [
      "GET /rooms/half-open HTTP/1.1",
      `Host: 127.0.0.1:${server.port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Version: 13",
      `Authorization: Bearer ${jwt}`,
      ...extra,
      "",
      "",
    ].join("\r\n");
  // A valid token but no Sec-WebSocket-Key: ws answers 400 itself, after our admission.
  assert.match(await rawExchange(server.port, request([])), /^HTTP\/1\.1 400/);
  await eventually(() => server.roomCount === 0, "no room after a refused handshake");

  // A client that hangs up while its token is being checked.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(
    new TextEncoder().encode(request(["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="])),
  );
  conn.close();
  await eventually(() => server.roomCount === 0, "no room after a client that left");

  // The room still works for a real participant.
  const alice = await TestClient.connect(`ws://127.0.0.1:${server.port}/rooms/half-open`, jwt);
  assert.equal(server.roomCount, 1);
  assert.ok((await alice.invoke("queues", "list")) instanceof JsonContent);
  await alice.close();
  await eventually(() => server.roomCount === 0, "the room ends after its participant left");
});

Deno.test("a client that stops answering pings is dropped; one that answers stays", async () => {
  await using room = await listen({ pingInterval: 0.1 });
  const server = room.server;
  const token = (name: string) => room.token("pings", name);
  const url = room.url("pings");
  // npm ws with autoPong off never answers the server's pings.
  const silent = new WS(url, [], {
    headers: { authorization: `Bearer ${await token("silent")}` },
    autoPong: false,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silentClosed = new Promise<number>((resolve, reject) => {
    silent.on("close", resolve);
    timer = setTimeout(() => reject(new Error("the silent client was not dropped")), 5000);
  }).finally(() => clearTimeout(timer));
  silent.on("error", () => {});
  // Deno's WebSocket answers pings by itself.
  const lively = await TestClient.connect(url, await token("lively"));

  assert.equal(await silentClosed, 1006);
  // Several ping rounds later the answering client still works.
  await new Promise((r) => setTimeout(r, 350));
  assert.ok((await lively.invoke("queues", "list")) instanceof JsonContent);
  await lively.close();
  await eventually(() => server.roomCount === 0, "the room ends after both left");
});

Deno.test("listening on a port in use fails with the address error", async () => {
  const dataDir = await Deno.makeTempDir();
  const keys = [generateApiKey()];
  const first = await RoomServer.listen({ port: 0, dataDir, keys });
  try {
    await assert.rejects(
      RoomServer.listen({ port: first.port, dataDir, keys }),
      (e: Error) => /in use|EADDRINUSE/i.test(`${e.message} ${(e as { code?: string }).code}`),
    );
    // The first server still answers.
    const res = await fetch(first.url);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await first.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the subprotocol is echoed only when the token came in it", async () => {
  const server = await startTestServer();
  try {
    const jwt = await server.token("proto", "alice");
    const plain = await handshake(server.roomUrl("proto"), { authorization: `Bearer ${jwt}` });
    assert.equal(plain.status, 101);
    assert.equal(plain.headers["sec-websocket-protocol"], undefined);
  } finally {
    await server.close();
  }
});

Deno.test("one frame over the message limit closes only that socket with 1009", async () => {
  const server = await startTestServer({ maxMessageSize: 64 * 1024 });
  try {
    const url = server.roomUrl("big-frame");
    const victim = await TestClient.connect(url, await server.token("big-frame", "big"));
    const bystander = await TestClient.connect(url, await server.token("big-frame", "calm"));
    victim.socket.send(new Uint8Array(200 * 1024));
    const closed = await victim.closed;
    assert.equal(closed.code, 1009);
    assert.ok((await bystander.invoke("queues", "list")) instanceof JsonContent);
    await bystander.close();
  } finally {
    await server.close();
  }
});

Deno.test("a participant that stops reading is closed once its send backlog passes the limit", async () => {
  await using room = await listen({ maxBufferedAmount: 1024 * 1024 });
  const server = room.server;
  const token = (name: string) => room.token("backlog", name);
  const url = room.url("backlog");
  // A raw ws client that learns its participant id, then stops reading from its TCP socket.
  const stalled = new WS(url, [], {
    headers: { authorization: `Bearer ${await token("slow")}` },
  });
  stalled.on("error", () => {});
  const assembler = new PacketAssembler();
  const id = await new Promise<string>((resolve) => {
    stalled.on("message", (frame: Uint8Array) => {
      const m = assembler.push(new Uint8Array(frame));
      if (m?.type === "connected") resolve(unpackMessage(m.data).header.participantId as string);
    });
  });
  stalled._socket.pause();

  const sender = await TestClient.connect(url, await token("fast"));
  const attachment = new Uint8Array(64 * 1024).toBase64();
  let refused: unknown;
  for (let i = 0; i < 2000 && refused === undefined; i++) {
    await sender.invoke("messaging", "send", {
      to_participant_id: id,
      type: "bulk",
      message_json: "{}",
      attachment_base64: attachment,
    }).catch((e) => refused = e);
  }
  // The server dropped the stalled participant instead of buffering without bound.
  assert.match(String(refused), /the participant was not found/);
  await sender.close();
  stalled.terminate();
  await eventually(() => server.roomCount === 0, "the room ends");
});
