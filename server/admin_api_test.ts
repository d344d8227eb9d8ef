// The REST admin API end to end: our `Meshagent` client and raw fetch against a real server,
// keys that work for room connections at once and stop at once, per-project scoping.
import assert from "node:assert/strict";
import {
  ApiScope,
  HandshakeRejectedError,
  Meshagent,
  MeshagentApiError,
  ParticipantToken,
  RoomClient,
} from "@meshagent/api";
import { startTestServer, type TestServer } from "./testing.ts";
import { missingSchemas } from "./_openapi.ts";

function admin(server: TestServer, apiKey = server.apiKey): Meshagent {
  return new Meshagent({ baseUrl: server.url, apiKey, timeout: 10_000 });
}

async function rejects(
  promise: Promise<unknown>,
  status: number,
  message?: RegExp,
): Promise<MeshagentApiError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert(caught instanceof MeshagentApiError, `expected a MeshagentApiError, got ${caught}`);
  assert.equal(caught.status, status, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

async function join(server: TestServer, room: string, apiKey: string): Promise<RoomClient> {
  const token = new ParticipantToken({ name: "someone" });
  token.addRoomGrant(room);
  token.addApiGrant(ApiScope.agentDefault());
  const client = new RoomClient({
    url: server.roomUrl(room),
    token: await token.toJwt({ apiKey }),
    reconnectTimeout: 0,
  });
  await client.start({ timeout: 10_000 });
  return client;
}

function closed(client: RoomClient): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (client.isClosed) return resolve(undefined);
    client.on("closed", (e) => resolve(e.code));
  });
}

Deno.test("admin API: a new API key joins rooms at once; a revoked one is refused and cut off", async () => {
  await using server = await startTestServer();
  const projectId = (await admin(server).whoami()).project_id as string;
  const created = await admin(server).createApiKey(projectId, { name: "ci" });
  assert.match(created.value!, /^ma-/);
  const room = await join(server, "keys-demo", created.value!);
  assert.equal(room.roomName, "keys-demo");

  // The key authenticates REST calls too, and is listed (without its value).
  const listed = await admin(server, created.value).listApiKeys(projectId);
  assert.deepEqual(listed.map((k) => k.name), ["ci"]);
  assert.equal(listed[0].value, undefined);

  const gone = closed(room);
  await admin(server).deleteApiKey(projectId, created.id);
  assert.equal(await gone, 1008); // the open connection is cut off
  await assert.rejects(
    join(server, "keys-demo", created.value!),
    (e) => e instanceof HandshakeRejectedError && /not trusted/.test(e.message),
  );
  await rejects(admin(server, created.value).listRooms(projectId), 401, /revoked/);
  await room.dispose();
});

Deno.test("admin API: a key of project A cannot read project B; bad credentials get 401", async () => {
  await using server = await startTestServer();
  const root = admin(server);
  const a = await root.createProject("alpha");
  const b = await root.createProject("beta");
  const keyA = (await root.createApiKey(a.id, { name: "a" })).value!;
  const clientA = admin(server, keyA);
  assert.deepEqual((await clientA.listProjects()).map((p) => p.id), [a.id]);
  await rejects(clientA.getProject(b.id), 403, /belongs to project .* cannot access project/);
  await rejects(clientA.listRooms(b.id), 403);
  await rejects(clientA.createApiKey(b.id, { name: "steal" }), 403);
  await rejects(clientA.createProject("gamma"), 403, /only a server key/);
  // Rooms: a room of A is refused to B's tokens.
  const keyB = (await root.createApiKey(b.id, { name: "b" })).value!;
  (await join(server, "alpha-room", keyA)).dispose();
  await assert.rejects(
    join(server, "alpha-room", keyB),
    (e) => e instanceof HandshakeRejectedError && /belongs to another project/.test(e.message),
  );
  // Credentials.
  await rejects(admin(server, "").listProjects(), 401, /missing API key/);
  await rejects(admin(server, "not-a-key").listProjects(), 401, /invalid API key/);
  const forged = keyA.slice(0, -4) + "beef";
  await rejects(admin(server, forged).listProjects(), 401, /unknown or revoked/);
  const raw = await fetch(`${server.url}/accounts/projects`);
  assert.equal(raw.status, 401);
  const body = await raw.json();
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "status"]);
  await rejects(root.getProject("no-such-project"), 404);
});

Deno.test("admin API: secrets, rooms, services and webhooks", async () => {
  await using server = await startTestServer();
  const api = admin(server);
  const projectId = (await api.whoami()).project_id as string;

  // Secrets: a value in versions, read back only when asked.
  const secret = await api.createSecret({ projectId, name: "openai", value: "sk-123" });
  assert.equal(typeof secret.current_version_id, "string");
  assert.equal((await api.getSecret(secret.id)).value_base64, undefined);
  const read = await api.getSecret(secret.id, { includeValue: true });
  assert.equal(new TextDecoder().decode(read.value), "sk-123");
  await api.addSecretVersion(secret.id, "sk-456");
  const versions = await api.request<{ versions: { version: number }[] }>(
    "listSecretVersions",
    { params: { secret_id: secret.id } },
  );
  assert.deepEqual(versions.versions.map((v) => v.version), [1, 2]);
  assert.deepEqual((await api.listSecrets()).map((s) => s.name), ["openai"]);
  await api.deleteSecret(secret.id);
  assert.deepEqual(await api.listSecrets(), []);

  // Rooms: create, if_not_exists, conflict, disable (connections refused with 423), delete.
  const room = await api.createRoom(projectId, { name: "lobby", metadata: { floor: 1 } });
  assert.deepEqual(
    (await api.createRoom(projectId, { name: "lobby", ifNotExists: true })).id,
    room.id,
  );
  await rejects(api.createRoom(projectId, { name: "lobby" }), 409);
  await rejects(api.createRoom(projectId, { name: "Not Valid" }), 400, /invalid room name/);
  assert.deepEqual((await api.getRoom(projectId, "lobby")).metadata, { floor: 1 });
  const member = await server.connect("lobby", "alice", { reconnectTimeout: 0 });
  const cut = closed(member);
  await api.updateRoom(projectId, "lobby", { enabled: false });
  assert.equal(await cut, 1008);
  await assert.rejects(
    server.connect("lobby", "bob", { reconnectTimeout: 0 }),
    (e) => e instanceof HandshakeRejectedError && e.status === 423,
  );
  await member.dispose();
  const connection = await api.connectRoom(projectId, "open-room");
  assert.equal(connection.room_url, server.roomUrl("open-room"));
  const viaJwt = new RoomClient({
    url: connection.room_url,
    token: connection.jwt,
    reconnectTimeout: 0,
  });
  await viaJwt.start({ timeout: 10_000 });
  const listed = await api.listRooms(projectId);
  assert.deepEqual(listed.map((r) => r.name).sort(), ["lobby", "open-room"]);
  await viaJwt.dispose();
  await api.deleteRoom(projectId, "lobby");
  await rejects(api.getRoom(projectId, "lobby"), 404);

  // Services: strict ServiceSpecs, unique names, room and project scopes.
  const spec = {
    version: "v1",
    kind: "Service",
    metadata: { name: "helper" },
    external: { url: "http://127.0.0.1:9/" },
    ports: [{
      num: "*",
      type: "http",
      endpoints: [{ path: "/agent", meshagent: { identity: "helper" } }],
    }],
  };
  const stored = await api.createService(projectId, spec);
  assert.equal(typeof stored.id, "string");
  await rejects(api.createService(projectId, spec), 409);
  await rejects(
    api.createService(projectId, { ...spec, extra: 1 }),
    400,
    /unknown ServiceSpec field extra/,
  );
  await rejects(api.createService(projectId, { ...spec, kind: "Other" }), 400);
  const { external: _e, ...noTarget } = spec;
  await rejects(
    api.createService(projectId, noTarget),
    400,
    /exactly one of container and external/,
  );
  const roomService = await api.createService(projectId, { ...spec, metadata: { name: "r" } }, {
    room: "open-room",
  });
  assert.deepEqual((await api.listServices(projectId)).map((s) => s.id), [stored.id]);
  assert.deepEqual((await api.listServices(projectId, { room: "open-room" })).map((s) => s.id), [
    roomService.id,
  ]);
  await api.deleteService(projectId, stored.id);
  assert.deepEqual(await api.listServices(projectId), []);

  // Webhooks: a secret is made when none is given; unknown events are refused.
  const hook = await api.createWebhook(projectId, {
    name: "events",
    url: "http://127.0.0.1:9/hook",
    events: ["room.started"],
  });
  assert.equal(hook.secret.length, 64);
  await rejects(
    api.createWebhook(projectId, { name: "x", url: "http://h/", events: ["room.bogus"] }),
    400,
    /unknown webhook event room.bogus/,
  );
  await rejects(api.createWebhook(projectId, { name: "x", url: "ftp://h/", events: [] }), 400);
  assert.deepEqual((await api.listWebhooks(projectId)).map((w) => w.id), [hook.id]);
  await api.deleteWebhook(projectId, hook.id);
  assert.deepEqual(await api.listWebhooks(projectId), []);
});

Deno.test("admin API: participant tokens minted over REST join their room", async () => {
  await using server = await startTestServer();
  const api = admin(server);
  const projectId = (await api.whoami()).project_id as string;
  const jwt = await api.createParticipantToken(projectId, {
    name: "bot",
    roomName: "minted",
    role: "agent",
  });
  const decoded = await api.request<{ name: string }>("validateParticipantToken", {
    body: { token: jwt },
  });
  assert.equal(decoded.name, "bot");
  const client = new RoomClient({ url: server.roomUrl("minted"), token: jwt, reconnectTimeout: 0 });
  await client.start({ timeout: 10_000 });
  assert.equal(client.localParticipant?.getAttribute("role"), "agent");
  await client.dispose();
  await rejects(
    api.request("validateParticipantToken", { body: { token: jwt.slice(0, -3) + "abc" } }),
    401,
  );
});

Deno.test("admin API: the OpenAPI document covers every route; errors are JSON", async () => {
  await using server = await startTestServer();
  assert.deepEqual(missingSchemas(), []);
  const doc = await (await fetch(`${server.url}/openapi.json`)).json();
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.paths["/accounts/projects/{project_id}/rooms"].get.operationId, "listRooms");
  assert.equal(
    doc.paths["/accounts/users/me/secrets/{secret_id}/versions/{version_id}:access"].get
      .operationId,
    "accessSecretVersion",
  );
  const wrong = await fetch(`${server.url}/accounts/projects`, { method: "DELETE" });
  assert.equal(wrong.status, 405);
  assert.match((await wrong.json()).error.message, /use POST or GET/);
  const missing = await fetch(`${server.url}/accounts/nothing`, {
    headers: { authorization: `Bearer ${server.apiKey}` },
  });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "not_found");
  const badJson = await fetch(`${server.url}/accounts/projects`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
    body: "{nope",
  });
  assert.equal(badJson.status, 400);
  assert.match((await badJson.json()).error.message, /not valid JSON/);
});

Deno.test("admin API: records survive a restart", async () => {
  await using server = await startTestServer();
  const api = admin(server);
  const project = await api.createProject("durable");
  const key = await api.createApiKey(project.id, { name: "k" });
  await server.restart();
  assert.deepEqual((await admin(server, key.value).listProjects()).map((p) => p.name), ["durable"]);
  (await join(server, "after-restart", key.value!)).dispose();
});
