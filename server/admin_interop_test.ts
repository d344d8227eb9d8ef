// The official npm client's REST `Meshagent` (@meshagent/meshagent 0.39.9, CommonJS, untyped)
// against our admin API: the calls it makes, the replies it parses.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startTestServer } from "./testing.ts";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");

Deno.test("official Meshagent client: projects, API keys, rooms, services, secrets, webhooks", async () => {
  await using server = await startTestServer();
  const client = new mesh.Meshagent({ baseUrl: server.url, token: server.apiKey });

  // Projects (a server key may create them).
  const project = await client.createProject("interop", { region: "local" });
  assert.equal(project.name, "interop");
  const p = project.id as string;
  const projects = await client.listProjects();
  assert(projects.projects.some((x: { id: string }) => x.id === p));
  assert.equal((await client.getProject(p)).name, "interop");
  assert.equal(await client.getStatus(p), true);

  // API keys (the legacy project-level endpoints the 0.39.9 client calls).
  const key = await client.createApiKey(p, "deploy", "for CI");
  assert.match(key.value, /^ma-/);
  const keys = await client.listApiKeys(p);
  assert.deepEqual(keys.tokens.map((k: { name: string }) => k.name), ["deploy"]);
  // The new key works for the same client at once, scoped to its project.
  const scoped = new mesh.Meshagent({ baseUrl: server.url, token: key.value });
  assert.equal((await scoped.getProject(p)).id, p);

  // Rooms.
  const room = await scoped.createRoom({ projectId: p, name: "interop-room", metadata: { a: 1 } });
  assert.equal(room.name, "interop-room");
  assert.deepEqual((await scoped.getRoom(p, "interop-room")).metadata, { a: 1 });
  await scoped.updateRoom(p, room.id, "interop-room", { annotations: { team: "x" } });
  assert.deepEqual((await scoped.getRoom(p, "interop-room")).annotations, { team: "x" });
  assert.deepEqual((await scoped.listRooms(p)).map((r: { name: string }) => r.name), [
    "interop-room",
  ]);
  const connection = await scoped.connectRoom(p, "interop-room");
  assert.equal(connection.roomUrl, server.roomUrl("interop-room"));
  assert.equal(connection.projectId, p);
  const official = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: connection.roomUrl,
      token: connection.jwt,
    }),
    reconnectTimeout: 0,
  });
  official.ready.catch(() => {});
  await official.start();
  assert.equal(official.roomName, "interop-room");
  official.dispose();
  await official.waitForClose();

  // Services, project and room.
  const spec = {
    version: "v1",
    kind: "Service",
    metadata: { name: "helper" },
    external: { url: "http://127.0.0.1:9/" },
    ports: [{ num: "*", endpoints: [{ path: "/agent", meshagent: { identity: "helper" } }] }],
  };
  const serviceId = await scoped.createService(p, spec);
  assert.equal((await scoped.getService(p, serviceId)).metadata.name, "helper");
  await scoped.updateService(p, serviceId, {
    ...spec,
    id: serviceId,
    metadata: { name: "helper", description: "helps" },
  });
  assert.equal((await scoped.listServices(p))[0].metadata.description, "helps");
  const roomServiceId = await scoped.createRoomService(p, "interop-room", {
    ...spec,
    metadata: { name: "local" },
  });
  assert.deepEqual(
    (await scoped.listRoomServices(p, "interop-room")).map((s: { id: string }) => s.id),
    [roomServiceId],
  );
  await scoped.deleteRoomService(p, "interop-room", roomServiceId);
  await scoped.deleteService(p, serviceId);
  assert.deepEqual(await scoped.listServices(p), []);

  // Project secrets (legacy, with data_base64).
  const secretId = await scoped.createProjectSecret({
    projectId: p,
    name: "token",
    type: "keys",
    data: new TextEncoder().encode('{"k":"v"}'),
  });
  const secret = await scoped.getProjectSecret(p, secretId);
  assert.equal(new TextDecoder().decode(secret.data), '{"k":"v"}');
  await scoped.updateProjectSecret({
    projectId: p,
    secretId,
    name: "token",
    type: "keys",
    data: new TextEncoder().encode("two"),
  });
  assert.equal(new TextDecoder().decode((await scoped.getProjectSecret(p, secretId)).data), "two");
  assert.deepEqual((await scoped.listProjectSecrets(p)).map((s: { id: string }) => s.id), [
    secretId,
  ]);
  await scoped.deleteProjectSecret(p, secretId);

  // Webhooks.
  const hook = await scoped.createWebhook(p, {
    name: "events",
    url: "http://127.0.0.1:9/hook",
    events: ["room.started", "room.ended"],
  });
  await scoped.updateWebhook(p, hook.id, {
    name: "events",
    url: "http://127.0.0.1:9/hook2",
    events: ["room.ended"],
  });
  const hooks = await scoped.listWebhooks(p);
  assert.equal(hooks.webhooks[0].url, "http://127.0.0.1:9/hook2");
  await scoped.deleteWebhook(p, hook.id);

  await scoped.deleteRoom(p, room.id);
  await client.deleteApiKey(p, key.id);
  await assert.rejects(scoped.getProject(p), /Status code: 401/);
});

Deno.test("official Meshagent client: another project's key is refused with 403", async () => {
  await using server = await startTestServer();
  const root = new mesh.Meshagent({ baseUrl: server.url, token: server.apiKey });
  const a = await root.createProject("a");
  const b = await root.createProject("b");
  const keyA = await root.createApiKey(a.id, "a", "");
  const clientA = new mesh.Meshagent({ baseUrl: server.url, token: keyA.value });
  await assert.rejects(clientA.getProject(b.id), /Status code: 403, body: .*cannot access/);
  await assert.rejects(clientA.listRooms(b.id), /Status code: 403/);
});
