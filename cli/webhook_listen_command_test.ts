import assert from "node:assert/strict";
import { signWebhook, WEBHOOK_SIGNATURE_HEADER, webhookBody } from "@meshagent/api";
import { webhookListenCommand } from "./webhook_listen_command.ts";

/** Runs `webhook listen` until `count` events; posts each body (signed with `secret`) to it. */
async function listen(
  json: boolean,
  deliveries: { body: string; secret: string }[],
  count: number,
): Promise<{ out: string[]; err: string[]; statuses: number[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const listening = Promise.withResolvers<string>();
  const stop = new AbortController();
  const running = webhookListenCommand(
    { port: 0, secret: "s3cret", count, json },
    {
      out: (line) => out.push(line),
      err: (line) => {
        err.push(line);
        const m = /listening for webhooks at (\S+)/.exec(line);
        if (m) listening.resolve(m[1]);
      },
    },
    stop.signal,
    () => undefined,
  );
  const timer = setTimeout(() => stop.abort(), 10_000);
  const url = await listening.promise;
  const statuses: number[] = [];
  for (const { body, secret } of deliveries) {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [WEBHOOK_SIGNATURE_HEADER]: await signWebhook(body, secret),
      },
      body,
    });
    await response.body?.cancel();
    statuses.push(response.status);
  }
  const printed = await running;
  clearTimeout(timer);
  assert.equal(printed, count, `events printed: ${out.join("\n")}\n${err.join("\n")}`);
  return { out, err, statuses };
}

Deno.test("webhook listen prints each verified event as a line, or as JSON with --json", async () => {
  const started = webhookBody("room.started", {
    room_name: "demo",
    room_url: "ws://127.0.0.1:8080/rooms/demo",
  });
  const forged = webhookBody("room.ended", { room_name: "demo" });
  const human = await listen(false, [
    { body: forged, secret: "wrong" },
    { body: started, secret: "s3cret" },
  ], 1);
  assert.deepEqual(human.statuses, [401, 200]);
  assert.deepEqual(human.out, ["room.started  room=demo  room_url=ws://127.0.0.1:8080/rooms/demo"]);
  assert.ok(
    human.err.some((line) => /^refused a delivery \(401\)/.test(line)),
    human.err.join("\n"),
  );

  const json = await listen(true, [{ body: started, secret: "s3cret" }], 1);
  assert.deepEqual(json.out.map((line) => JSON.parse(line)), [
    {
      event: "room.started",
      data: { room_name: "demo", room_url: "ws://127.0.0.1:8080/rooms/demo" },
    },
  ]);
});

Deno.test("webhook listen without a secret says where one comes from", async () => {
  await assert.rejects(
    webhookListenCommand(
      { port: 0 },
      { out: () => {}, err: () => {} },
      new AbortController().signal,
      () => undefined,
    ),
    /pass --secret .*MESHAGENT_WEBHOOK_SECRET.*--no-verify/,
  );
});
