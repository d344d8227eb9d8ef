import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { signWebhook, verifyWebhook, webhookBody, WebhookError } from "./webhook_signature.ts";
import { WebhookServer } from "./webhook_server.ts";
import type { RoomStartedEvent } from "./webhook_event.ts";

const SECRET = "test-webhook-secret";
const STARTED = { room_name: "demo", room_url: "ws://127.0.0.1:1/rooms/demo" };

function post(body: string, signature?: string, path = "/webhook"): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== undefined) headers["meshagent-signature"] = signature;
  return new Request(`http://localhost${path}`, { method: "POST", headers, body });
}

function receiver(): { server: WebhookServer; seen: RoomStartedEvent[] } {
  const seen: RoomStartedEvent[] = [];
  const server = new WebhookServer({ secret: SECRET });
  server.on("room.started", (event) => void seen.push(event));
  return { server, seen };
}

async function answer(response: Response): Promise<[number, Record<string, unknown>]> {
  return [response.status, await response.json()];
}

Deno.test("WebhookServer: a signed delivery reaches its handler, typed", async () => {
  const { server, seen } = receiver();
  const body = webhookBody("room.started", STARTED);
  assert.deepEqual(await answer(await server.fetch(post(body, await signWebhook(body, SECRET)))), [
    200,
    { ok: true },
  ]);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].roomName, "demo");
  assert.equal(seen[0].roomUrl, STARTED.room_url);
});

Deno.test("WebhookServer: the signature hashes Python's json.dumps, not the bytes", async () => {
  // A Python sender signs json.dumps(payload); the body we get may be spaced differently (the
  // receiver re-serialises the parsed payload), and it holds an escaped non-ASCII name.
  const { server, seen } = receiver();
  const signed = webhookBody("room.started", { ...STARTED, room_name: "café" });
  const compact = JSON.stringify({
    event: "room.started",
    data: { ...STARTED, room_name: "café" },
  });
  const response = await server.fetch(post(compact, await signWebhook(signed, SECRET)));
  assert.equal(response.status, 200, await response.text());
  assert.equal(seen[0].roomName, "café");
});

Deno.test("WebhookServer: tampered, unsigned, wrong-secret, old and replayed deliveries get 401", async () => {
  const { server, seen } = receiver();
  const body = webhookBody("room.started", STARTED);
  const good = await signWebhook(body, SECRET);
  const cases: [string, Request, string][] = [
    ["tampered", post(body.replace("demo", "other"), good), "body_mismatch"],
    ["unsigned", post(body), "missing_signature"],
    ["not bearer", post(body, good.replace("Bearer ", "")), "missing_signature"],
    ["wrong secret", post(body, await signWebhook(body, "another-secret")), "invalid_signature"],
    [
      "expired",
      post(
        body,
        await signWebhook(body, SECRET, { issuedAt: new Date(Date.now() - 3600_000) }),
      ),
      "expired",
    ],
  ];
  for (const [name, request, code] of cases) {
    const [status, json] = await answer(await server.fetch(request));
    assert.equal(status, 401, name);
    assert.equal(json.code, code, name);
  }
  // An old signature without exp (only iat) is refused by its age.
  const sha = (await verifyWebhook(good, body, { secret: SECRET })).sha256;
  const oldIat = await new SignJWT({ sha256: sha, iat: Math.floor(Date.now() / 1000) - 3600 })
    .setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET));
  const [oldStatus, oldJson] = await answer(await server.fetch(post(body, `Bearer ${oldIat}`)));
  assert.deepEqual([oldStatus, oldJson.code], [401, "expired"]);
  assert.equal(seen.length, 0);
  // The first delivery is accepted; the same one again is a replay.
  assert.equal((await server.fetch(post(body, good))).status, 200);
  const [replayStatus, replay] = await answer(await server.fetch(post(body, good)));
  assert.deepEqual([replayStatus, replay.code], [401, "replayed"]);
  assert.equal(seen.length, 1);
});

Deno.test("WebhookServer: a signature like the Python sender's (sha256 only) is accepted", async () => {
  const { server, seen } = receiver();
  const body = webhookBody("room.started", STARTED);
  const response = await server.fetch(
    post(body, await signWebhook(body, SECRET, { ttlSeconds: null })),
  );
  assert.equal(response.status, 200);
  assert.equal(seen.length, 1);
});

Deno.test("WebhookServer: bad payloads get 400, no secret 500, a failing handler 500", async () => {
  const { server } = receiver();
  const signed = async (body: string) => post(body, await signWebhook(body, SECRET));
  assert.equal((await server.fetch(post("not json"))).status, 400);
  for (
    const body of [
      "[1]",
      webhookBody("room.bogus", {}),
      JSON.stringify({ event: "room.started", data: { room_name: 1 } }),
    ]
  ) {
    const response = await server.fetch(await signed(body));
    assert.equal(response.status, 400, body);
    await response.body?.cancel();
  }
  const noSecret = new WebhookServer({ secret: "" });
  const body = webhookBody("room.ended", { room_name: "demo" });
  assert.equal((await noSecret.fetch(await signed(body))).status, 500);

  const failing = new WebhookServer({ secret: SECRET, onError: () => {} });
  failing.on("room.ended", () => {
    throw new Error("disk full");
  });
  const [status, json] = await answer(await failing.fetch(await signed(body)));
  assert.equal(status, 500);
  assert.match(String(json.error), /disk full/);
});

Deno.test("WebhookServer: liveness on GET, 404 elsewhere, validation can be turned off", async () => {
  const { server } = receiver();
  assert.deepEqual(await answer(await server.fetch(new Request("http://localhost/webhook"))), [
    200,
    { ok: true },
  ]);
  assert.equal((await server.fetch(new Request("http://localhost/other"))).status, 404);
  const open = new WebhookServer({ validate: false, path: "/hooks" });
  let ended = "";
  open.on("room.ended", (event) => void (ended = event.roomName));
  const body = webhookBody("room.ended", { room_name: "r1" });
  assert.equal((await open.fetch(post(body, undefined, "/hooks"))).status, 200);
  assert.equal(ended, "r1");
});

Deno.test("verifyWebhook: errors say what to fix", async () => {
  const body = webhookBody("room.ended", { room_name: "demo" });
  await assert.rejects(
    verifyWebhook(await signWebhook(body, "a"), body, { secret: undefined }),
    (e: unknown) => e instanceof WebhookError && /MESHAGENT_WEBHOOK_SECRET/.test(e.message),
  );
});
