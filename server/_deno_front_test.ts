// The Deno.serve front's own edges (the rest of the suite runs on it with
// MESHAGENT_TEST_FRONT=deno).
import assert from "node:assert/strict";
import { JsonContent } from "@meshagent/api";
import { TestClient } from "./_test_helpers.ts";
import { startTestServer } from "./testing.ts";

Deno.test("Deno.serve front: one frame over the message limit closes only that socket with 1009", async () => {
  const server = await startTestServer({ maxMessageSize: 64 * 1024, server: { front: "deno" } });
  try {
    const url = server.roomUrl("big-frame");
    const victim = await TestClient.connect(url, await server.token("big-frame", "big"));
    const bystander = await TestClient.connect(url, await server.token("big-frame", "calm"));
    victim.socket.send(new Uint8Array(200 * 1024));
    const closed = await victim.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, /frame too big: the limit is 66560 bytes/);
    assert.ok((await bystander.invoke("queues", "list")) instanceof JsonContent);
    await bystander.close();
  } finally {
    await server.close();
  }
});
