// The room server's node:http + ws front: HTTP edge cases, handshakes that do not complete,
// keep-alive pings and listen errors, each through a real server on loopback. Every server here
// runs the node front, whatever MESHAGENT_TEST_FRONT says: these limits are that front's own
// (on the Deno.serve front Deno answers an oversized head itself, with a bare 400).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  ApiScope,
  generateApiKey,
  HandshakeRejectedError,
  JsonContent,
  PacketAssembler,
  ParticipantToken,
  RoomClient,
  unpackMessage,
} from "@meshagent/api";
import { WebSocket as WS } from "ws";
import { handshake, TestClient } from "./_test_helpers.ts";
import { RoomServer, type RoomServerOptions } from "./room_server.ts";
import { startTestServer as startAnyTestServer, type TestServerOptions } from "./testing.ts";

/** A test server on the node front. */
function startTestServer(options: TestServerOptions = {}) {
  return startAnyTestServer({ ...options, server: { ...options.server, front: "node" } });
}

// deno-lint-ignore no-explicit-any
const mesh: any = createRequire(import.meta.url)("@meshagent/meshagent");

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

// --- HTTP limits: oversized and slow request heads, idle connections, the connection cap ---

/** Reads a connection until the server closes it or `ms` pass; whether it closed, and the text. */
async function readUntilClosed(
  conn: Deno.Conn,
  ms: number,
): Promise<{ closed: boolean; text: string }> {
  let text = "";
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"deadline">((resolve) =>
    timer = setTimeout(resolve, ms, "deadline")
  );
  try {
    while (true) {
      const n = await Promise.race([conn.read(buf).catch(() => null), deadline]);
      if (n === "deadline") return { closed: false, text };
      if (n === null) return { closed: true, text };
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON body of a raw HTTP response. */
function jsonBody(text: string): { error: string } {
  return JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
}

Deno.test("a 100 KB token in the header, the subprotocol or ?token= gets a final 403 that says why", async () => {
  const server = await startTestServer();
  const big = "x".repeat(100_000);
  try {
    const url = server.roomUrl("big-token");
    const ways: [string, string, Record<string, string>][] = [
      ["header", url, { authorization: `Bearer ${big}` }],
      ["subprotocol", url, { "sec-websocket-protocol": `meshagent-room.${big}` }],
      ["query", `${url}?token=${big}`, {}],
    ];
    for (const [way, target, headers] of ways) {
      const res = await handshake(target, headers);
      assert.equal(res.status, 403, way);
      assert.match(res.headers["content-type"], /application\/json/, way);
      assert.match(jsonBody(`\r\n\r\n${res.body}`).error, /too large.*16384 bytes/, way);
    }
    // Our client gives up at once, with the server's explanation (a retry would end in the
    // start timeout instead).
    for (const tokenTransport of ["header", "subprotocol", "query"] as const) {
      const client = new RoomClient({ url, token: big, tokenTransport, reconnectTimeout: null });
      try {
        await assert.rejects(
          client.start({ timeout: 10_000 }),
          (e: unknown) =>
            e instanceof HandshakeRejectedError && e.status === 403 &&
            /status 403: request header fields too large/.test(e.message),
          tokenTransport,
        );
      } finally {
        await client.dispose();
      }
    }
    // So does the official client, which retries every status but 403 and 404 forever.
    const official = officialClient(url, big);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const outcome = await Promise.race([
        official.start().then(() => "started", (e: Error) => e.message),
        new Promise((resolve) => timer = setTimeout(resolve, 10_000, "still retrying")),
      ]);
      assert.match(String(outcome), /status 403: Request Header Fields Too Large/);
    } finally {
      clearTimeout(timer);
      official.dispose();
      await official.waitForClose();
    }
    const res = await fetch(server.url); // the server is unharmed
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await server.close();
  }
});

/**
 * The official npm client (0.39.9) with a room URL and token, retrying as it does by default.
 * Its socket gets an error listener: on a refused handshake the client leaves the socket
 * connecting and its dispose makes ws emit an error nobody listens to (any 403 does that).
 * `ready` rejects alongside `start()`.
 */
// deno-lint-ignore no-explicit-any
function officialClient(url: string, token: string): any {
  const client = new mesh.RoomClient({
    protocolFactory: () => {
      const protocol = new mesh.WebSocketClientProtocol({ url, token });
      const channel = protocol.channel;
      const start = channel.start.bind(channel);
      channel.start = (...args: unknown[]) => {
        start(...args);
        channel.webSocket?.on("error", () => {});
      };
      return protocol;
    },
  });
  client.ready.catch(() => {});
  return client;
}

Deno.test("a request head dribbled byte by byte is cut at the header timeout with 408", async () => {
  await using room = await listen({ http: { headerTimeout: 0.3 } });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: room.server.port });
  const head = new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${"X-Slow: loris\r\n".repeat(1000)}\r\n`,
  );
  let sent = 0;
  const dribble = setInterval(() => {
    if (sent < head.length) conn.write(head.subarray(sent, ++sent)).catch(() => {});
  }, 20);
  try {
    // Without the limit the connection stays open as long as bytes keep coming.
    const { closed, text } = await readUntilClosed(conn, 5000);
    assert.ok(closed, "the slow connection was not closed");
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(jsonBody(text).error, /did not arrive within 0\.3 s/);
  } finally {
    clearInterval(dribble);
    conn.close();
  }
});

Deno.test("idle HTTP connections are closed: kept alive after a request, or silent from the start", async () => {
  await using room = await listen({ http: { keepAliveTimeout: 0.1, idleTimeout: 0.5 } });
  const port = room.server.port;
  const kept = await Deno.connect({ hostname: "127.0.0.1", port });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await kept.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    // node's defaults keep both open for 6 s and 10 s at least.
    const [afterRequest, neverSpoke] = await Promise.all([
      readUntilClosed(kept, 4000),
      readUntilClosed(silent, 4000),
    ]);
    assert.match(afterRequest.text, /^HTTP\/1\.1 200 /);
    assert.ok(afterRequest.closed, "the kept-alive connection stayed open");
    assert.ok(neverSpoke.closed, "the silent connection stayed open");
  } finally {
    kept.close();
    silent.close();
  }
});

Deno.test("the idle limit does not touch accepted WebSockets", async () => {
  await using room = await listen({ pingInterval: 0, http: { idleTimeout: 0.2 } });
  const alice = await TestClient.connect(room.url("idle-ws"), await room.token("idle-ws", "alice"));
  await new Promise((r) => setTimeout(r, 800)); // four idle limits without a byte either way
  assert.ok((await alice.invoke("queues", "list")) instanceof JsonContent);
  await alice.close();
});

Deno.test("past the HTTP connection cap a connection gets 503 and is closed; WebSockets do not count", async () => {
  await using room = await listen({ http: { maxConnections: 2 } });
  const port = room.server.port;
  const alice = await TestClient.connect(room.url("cap"), await room.token("cap", "alice"));
  const held = [
    await Deno.connect({ hostname: "127.0.0.1", port }),
    await Deno.connect({ hostname: "127.0.0.1", port }),
  ];
  const extra = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await extra.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const { closed, text } = await readUntilClosed(extra, 4000);
    assert.ok(closed);
    assert.match(text, /^HTTP\/1\.1 503 /);
    assert.match(jsonBody(text).error, /2 HTTP connections open already/);
    assert.equal(text.match(/HTTP\/1\.1/g)?.length, 1, "the refused request was not served too");
  } finally {
    extra.close();
    for (const conn of held) conn.close();
  }
  // Once they left, connections are served again.
  let res: Response | undefined;
  for (let i = 0; i < 50 && res?.status !== 200; i++) {
    await res?.body?.cancel();
    res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    if (res?.status !== 200) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(res?.status, 200);
  await res?.body?.cancel();
  assert.ok((await alice.invoke("queues", "list")) instanceof JsonContent);
  await alice.close();
});
