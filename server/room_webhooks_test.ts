// Room events end to end: a real server delivers room.started / participant.* / room.ended to a
// WebhookServer (on Deno.serve) that verifies every signature.
import assert from "node:assert/strict";
import { Meshagent, type WebhookEvent, WebhookServer } from "@meshagent/api";
import { startTestServer } from "./testing.ts";

function receive(secret: string, port = 0) {
  const events: WebhookEvent[] = [];
  const refused: number[] = [];
  const hooks = new WebhookServer({ secret });
  for (
    const type of ["room.started", "room.ended", "participant.joined", "participant.left"] as const
  ) {
    hooks.on(type, (event) => void events.push(event));
  }
  const server = Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const response = await hooks.fetch(request);
    if (response.status !== 200) refused.push(response.status);
    return response;
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/webhook`,
    events,
    refused,
    close: () => server.shutdown(),
  };
}

function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out: ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

Deno.test("room webhooks: started, joined, left, ended arrive signed, in order", async () => {
  const target = receive("server-secret");
  await using server = await startTestServer({
    server: {
      webhookSecret: "server-secret",
      webhooks: [{ url: target.url }],
      webhookDelivery: { firstRetryMs: 20 },
    },
  });
  try {
    const alice = await server.connect("hooked", "alice");
    await alice.dispose();
    await until("four events", () => target.events.length >= 4);
    assert.deepEqual(target.events.map((e) => e.event), [
      "room.started",
      "participant.joined",
      "participant.left",
      "room.ended",
    ]);
    const started = target.events[0];
    assert(started.event === "room.started");
    assert.equal(started.roomName, "hooked");
    assert.equal(started.roomUrl, server.roomUrl("hooked"));
    const joined = target.events[1];
    assert(joined.event === "participant.joined");
    assert.equal(joined.participantName, "alice");
    assert.deepEqual(target.refused, []);
  } finally {
    await target.close();
  }
});

Deno.test("room webhooks: a project webhook gets its own secret; a wrong one is refused and retried", async () => {
  const good = receive("");
  const wrong = receive("not-the-secret");
  await using server = await startTestServer({ server: { webhookDelivery: { firstRetryMs: 20 } } });
  try {
    const api = new Meshagent({ baseUrl: server.url, apiKey: server.apiKey });
    const projectId = (await api.whoami()).project_id as string;
    const hook = await api.createWebhook(projectId, {
      name: "ok",
      url: good.url,
      events: ["room.started", "room.ended"],
    });
    // A receiver that knows the secret the server made; the webhook moves to it (PUT keeps the
    // secret).
    const verified = receive(hook.secret);
    await api.request("updateWebhook", {
      params: { project_id: projectId, webhook_id: hook.id },
      body: { name: "ok", url: verified.url, events: ["room.ended"] },
    });
    await api.createWebhook(projectId, {
      name: "bad",
      url: wrong.url,
      events: ["room.ended"],
      secret: "a-different-secret",
    });
    const bob = await server.connect("project-room", "bob");
    await bob.dispose();
    await until("room.ended at the verifying receiver", () => verified.events.length === 1);
    assert.equal(verified.events[0].event, "room.ended");
    await until("two refusals (retried)", () => wrong.refused.length >= 2);
    assert.deepEqual(wrong.refused.slice(0, 2), [401, 401]);
    assert.deepEqual(wrong.events, []);
    await verified.close();
  } finally {
    await good.close();
    await wrong.close();
  }
});

Deno.test("room webhooks: a delivery pending at shutdown is delivered after the restart", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await using server = await startTestServer({
    server: {
      webhookSecret: "s",
      webhooks: [{ url: `http://127.0.0.1:${port}/webhook`, events: ["room.ended"] }],
      webhookDelivery: { firstRetryMs: 50, maxRetryMs: 100 },
    },
  });
  const carol = await server.connect("durable-hooks", "carol");
  await carol.dispose();
  // Nothing listens on the port: the event waits in the outbox, across a restart.
  await server.restart();
  const target = receive("s", port);
  try {
    await until("room.ended after the restart", () => target.events.length === 1);
    assert.equal(target.events[0].event, "room.ended");
  } finally {
    await target.close();
  }
});
