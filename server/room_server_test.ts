import assert from "node:assert/strict";
import { ApiScope, generateApiKey, ParticipantToken } from "@meshagent/api";
import { handshake, TestClient } from "./_test_helpers.ts";
import { startTestServer } from "./testing.ts";

Deno.test("GET / answers the JSON banner; other paths are 404", async () => {
  const server = await startTestServer();
  try {
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.name, "meshagent-deno-server");
    assert.equal(typeof body.version, "string");
    const other = await fetch(`${server.url}/nope`);
    assert.equal(other.status, 404);
    await other.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("handshake refusals are 403 (never 401); invalid room names are 404", async () => {
  const server = await startTestServer();
  try {
    const url = server.roomUrl("room-a");
    const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
    const expect403 = async (headers: Record<string, string>, what: string, target = url) => {
      const res = await handshake(target, headers);
      assert.equal(res.status, 403, `${what}: got ${res.status} ${res.body}`);
      assert.ok(res.body.length > 0 && res.body.length < 300, `${what}: short text body`);
    };

    await expect403({}, "no token");
    await expect403(bearer("not.a.jwt"), "malformed");
    await expect403(bearer("garbage"), "malformed (no dots)");

    const good = await server.token("room-a", "alice");
    const [h, p] = good.split(".");
    await expect403(bearer(`${h}.${p}.${"A".repeat(43)}`), "bad signature");

    const expired = await server.token("room-a", "alice", { expiresInSeconds: -3600 });
    await expect403(bearer(expired), "expired");

    const wrongRoom = await server.token("room-b", "alice");
    await expect403(bearer(wrongRoom), "wrong room");

    const roomless = await new ParticipantToken({ name: "alice" })
      .addApiGrant(ApiScope.agentDefault())
      .toJwt({ apiKey: server.apiKey });
    await expect403(bearer(roomless), "room-less token");

    const other = generateApiKey();
    const unknownKid = await new ParticipantToken({ name: "alice" }).addRoomGrant("room-a")
      .toJwt({ apiKey: other.key });
    await expect403(bearer(unknownKid), "unknown kid");

    // Signed with the trusted secret but claiming another project.
    const foreign = new ParticipantToken({ name: "alice" }).addRoomGrant("room-a");
    const trustedKid = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/"))).kid;
    foreign.apiKeyId = trustedKid;
    foreign.projectId = crypto.randomUUID();
    const secret = server.apiKey.split("-").slice(3).join("-");
    await expect403(bearer(await foreign.toJwt({ secret })), "foreign project");

    const ok = await handshake(url, bearer(good));
    assert.equal(ok.status, 101);

    const bad = await handshake(server.url.replace("http", "ws") + "/rooms/Bad_Name", bearer(good));
    assert.equal(bad.status, 404);
    const escape = await handshake(
      server.url.replace("http", "ws") + "/rooms/..%2Fx",
      bearer(good),
    );
    assert.equal(escape.status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("tokens travel in the header, the echoed subprotocol, or ?token=", async () => {
  const server = await startTestServer();
  try {
    const url = server.roomUrl("transports");
    const jwt = await server.token("transports", "alice");
    const viaProtocol = await handshake(url, { "sec-websocket-protocol": `meshagent-room.${jwt}` });
    assert.equal(viaProtocol.status, 101);
    assert.equal(viaProtocol.headers["sec-websocket-protocol"], `meshagent-room.${jwt}`);

    for (const transport of ["header", "subprotocol", "query"] as const) {
      const client = await TestClient.connect(url, jwt, transport);
      assert.equal(client.init.type, "init");
      if (transport === "subprotocol") {
        assert.equal(client.socket.protocol, `meshagent-room.${jwt}`);
      }
      await client.close();
    }
  } finally {
    await server.close();
  }
});

Deno.test("room_ready then connected/init with name and role", async () => {
  const server = await startTestServer();
  try {
    const jwt = await server.token("ready-room", "alice", { role: "agent" });
    const a = await TestClient.connect(server.roomUrl("ready-room"), jwt);
    const b = await TestClient.connect(
      server.roomUrl("ready-room"),
      await server.token("ready-room", "bob"),
    );
    assert.equal(a.roomReady.room_name, "ready-room");
    assert.equal(a.roomReady.room_url, server.roomUrl("ready-room"));
    assert.equal(typeof a.roomReady.session_id, "string");
    assert.equal(a.roomReady.session_id, b.roomReady.session_id, "one session per room run");
    assert.equal(a.init.type, "init");
    assert.equal(typeof a.init.participantId, "string");
    assert.notEqual(a.init.participantId, b.init.participantId);
    assert.deepEqual(a.init.attributes, { name: "alice", role: "agent" });
    assert.deepEqual(b.init.attributes, { name: "bob", role: "user" });
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});

Deno.test("a room ends after its last participant; a new session starts on reconnect", async () => {
  const server = await startTestServer();
  try {
    const url = server.roomUrl("cycle");
    const jwt = await server.token("cycle", "alice");
    const first = await TestClient.connect(url, jwt);
    await first.close();
    const second = await TestClient.connect(url, jwt);
    assert.notEqual(first.roomReady.session_id, second.roomReady.session_id);
    await second.close();
  } finally {
    await server.close();
  }
});

Deno.test("shutdown closes sockets with 1012", async () => {
  const server = await startTestServer();
  try {
    const client = await TestClient.connect(
      server.roomUrl("bye"),
      await server.token("bye", "alice"),
    );
    await server.restart();
    const event = await client.closed;
    assert.equal(event.code, 1012);
    // The restarted server takes connections again.
    const again = await TestClient.connect(server.roomUrl("bye"), await server.token("bye", "a"));
    await again.close();
  } finally {
    await server.close();
  }
});

Deno.test("a token without an api grant connects, but every room API call is denied", async () => {
  const server = await startTestServer();
  try {
    const client = await TestClient.connect(
      server.roomUrl("no-api"),
      await server.token("no-api", "alice", { api: null }),
    );
    await assert.rejects(client.invoke("messaging", "enable"), { code: 1001 });
    await assert.rejects(client.invoke("queues", "list"), { code: 1001 });
    await assert.rejects(client.invoke("nope", "x"), { code: 1001 });
    await client.close();
  } finally {
    await server.close();
  }
});

Deno.test("api scopes are checked per call", async () => {
  const server = await startTestServer();
  try {
    const scope = ApiScope.fromJson({ messaging: { broadcast: false }, queues: { send: ["a"] } });
    const client = await TestClient.connect(
      server.roomUrl("scoped"),
      await server.token("scoped", "alice", { api: scope }),
    );
    await assert.rejects(
      client.invoke("messaging", "broadcast", { type: "x", message_json: "{}" }),
      { code: 1001 },
    );
    await assert.rejects(client.invoke("queues", "send", { name: "b", message: {} }), {
      code: 1001,
    });
    await client.invoke("queues", "send", { name: "a", message: {} });
    await assert.rejects(client.invoke("developer", "log", { type: "t", data: {} }), {
      code: 1001,
    });
    await client.close();
  } finally {
    await server.close();
  }
});
