// Integration tests of AgentsClient against our real room server (built-in toolkits; hosted
// toolkits and room.list_toolkits are covered once the server routes them).
import assert from "node:assert/strict";
import { JsonContent, RoomError } from "@meshagent/api";
import { connect, roomName, withServer } from "./testdata/test_room.ts";

Deno.test("invokeTool returns a JSON result as JsonContent", async () => {
  await withServer(async (server) => {
    const room = await connect(server, roomName(), "alice");
    try {
      await room.queues.send("q1", { a: 1 });
      const result = await room.agents.invokeTool({
        toolkit: "queues",
        tool: "list",
        arguments: {},
      });
      assert.ok(result instanceof JsonContent);
      assert.deepEqual(result.json, { queues: [{ name: "q1", size: 1 }] });
    } finally {
      await room.dispose();
    }
  });
});

Deno.test("invokeTool on an unknown toolkit rejects with code 1003", async () => {
  await withServer(async (server) => {
    const room = await connect(server, roomName(), "alice");
    try {
      await assert.rejects(
        room.agents.invokeTool({ toolkit: "no-such-toolkit", tool: "x", arguments: {} }),
        (e: unknown) => e instanceof RoomError && e.code === 1003,
      );
    } finally {
      await room.dispose();
    }
  });
});
