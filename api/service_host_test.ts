import assert from "node:assert/strict";
import { ApiScope } from "./api_scope.ts";
import { ServiceHost } from "./service_host.ts";
import { signWebhook, webhookBody } from "./webhook_signature.ts";

const call = (roomUrl: string) =>
  webhookBody("room.call", {
    room_name: "demo",
    room_url: roomUrl,
    token: "eyJhbGciOiJIUzI1NiJ9.e30.x",
    arguments: { hello: "world" },
  });

function post(path: string, body: string, signature?: string): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature) headers["meshagent-signature"] = signature;
  return new Request(`http://localhost${path}`, { method: "POST", headers, body });
}

Deno.test("ServiceHost: liveness, the service spec with one endpoint per path, 404", async () => {
  await using host = new ServiceHost({ name: "helpers", port: 8123 });
  host.addPath("/agent", () => ({ start() {}, stop() {} }), {
    agent: { name: "helper", description: "helps" },
  });
  host.addPath("/tools", () => ({ start() {}, stop() {} }), {
    identity: "math-tools",
    api: ApiScope.agentDefault(),
  });
  assert.deepEqual(await (await host.fetch(new Request("http://localhost/"))).json(), { ok: true });
  const spec = await (await host.fetch(
    new Request("http://localhost/.well-known/meshagent-service.json"),
  )).json();
  assert.equal(spec.version, "v1");
  assert.equal(spec.kind, "Service");
  assert.equal(spec.metadata.name, "helpers");
  assert.deepEqual(spec.agents, [{ name: "helper", description: "helps" }]);
  assert.equal(spec.ports[0].num, 8123);
  assert.deepEqual(spec.ports[0].endpoints.map((e: { path: string }) => e.path), [
    "/agent",
    "/tools",
  ]);
  assert.deepEqual(spec.ports[0].endpoints[0].meshagent, { identity: "agent", api: null });
  assert.equal(spec.ports[0].endpoints[1].meshagent.identity, "math-tools");
  assert.equal(typeof spec.ports[0].endpoints[1].meshagent.api, "object");
  const missing = await host.fetch(post("/nope", call("ws://127.0.0.1:1/rooms/demo")));
  assert.equal(missing.status, 404);
  assert.match((await missing.json()).error, /\/agent, \/tools/);
  assert.throws(() => host.addPath("/agent", () => ({ start() {}, stop() {} })), TypeError);
  assert.throws(() => host.addPath("/.well-known/x", () => ({ start() {}, stop() {} })), TypeError);
});

Deno.test("ServiceHost: with a secret, unsigned and forged calls get 401 and start nothing", async () => {
  let made = 0;
  await using host = new ServiceHost({ secret: "s3cret" });
  host.addPath("/agent", () => {
    made++;
    return { start() {}, stop() {} };
  });
  const body = call("ws://127.0.0.1:1/rooms/demo");
  assert.equal((await host.fetch(post("/agent", body))).status, 401);
  assert.equal(
    (await host.fetch(post("/agent", body, await signWebhook(body, "wrong")))).status,
    401,
  );
  const tampered = body.replace("world", "earth");
  assert.equal(
    (await host.fetch(post("/agent", tampered, await signWebhook(body, "s3cret")))).status,
    401,
  );
  assert.equal(host.sessions, 0);
  assert.equal(made, 0);
});

Deno.test("ServiceHost: a call is answered at once; a room it cannot join is reported", async () => {
  const errors: unknown[] = [];
  const reported = Promise.withResolvers<void>();
  await using host = new ServiceHost({
    connectTimeout: 2000,
    reconnectTimeout: 0,
    onError: (error, failed) => {
      errors.push(error);
      assert.equal(failed.roomName, "demo");
      assert.deepEqual(failed.arguments, { hello: "world" });
      reported.resolve();
    },
  });
  let made = 0;
  host.addPath("/agent", () => {
    made++;
    return { start() {}, stop() {} };
  });
  // Nothing listens on port 1: the join fails after the answer.
  const response = await host.fetch(post("/agent", call("ws://127.0.0.1:1/rooms/demo")));
  assert.deepEqual(await response.json(), { ok: true });
  await reported.promise;
  assert.equal(errors.length, 1);
  assert.equal(made, 0); // the service is made only once the room is joined
  await host.close();
  const late = await host.fetch(post("/agent", call("ws://127.0.0.1:1/rooms/demo")));
  assert.equal(late.status, 503);
  await late.body?.cancel();
});
