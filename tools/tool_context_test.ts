import assert from "node:assert/strict";
import { RoomClient } from "@meshagent/api";
import { ToolContext, type ToolEvent } from "./tool_context.ts";

Deno.test("ToolContext defaults", async () => {
  const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
  assert.equal(ctx.room, null);
  assert.equal(ctx.onBehalfOf, null);
  assert.match(ctx.toolCallId, /^[0-9a-f]{32}$/);
  assert.equal(ctx.signal.aborted, false);
  await ctx.emit({ dropped: true }); // no handler: no error
});

Deno.test("ToolContext carries participants, room and events", async () => {
  const events: ToolEvent[] = [];
  const controller = new AbortController();
  // A participant class with getters (like those of @meshagent/api) fits ToolParticipant.
  class Participant {
    get id(): string {
      return "p-1";
    }
    get name(): string | undefined {
      return "alice";
    }
    get attributes(): Record<string, unknown> {
      return { name: "alice" };
    }
  }
  const caller = new Participant();
  // Not started: a RoomClient opens nothing until start().
  await using room = new RoomClient({ url: "ws://127.0.0.1:1/rooms/r1", token: "t" });
  const ctx = new ToolContext({
    caller,
    onBehalfOf: { id: "p-2", name: "bob", attributes: { name: "bob" } },
    room,
    toolCallId: "call-1",
    signal: controller.signal,
    onEvent: async (event) => {
      await Promise.resolve();
      events.push(event);
    },
  });
  assert.equal(ctx.caller.name, "alice");
  assert.equal(ctx.onBehalfOf?.id, "p-2");
  assert.equal(ctx.room, room);
  assert.equal(ctx.toolCallId, "call-1");
  await ctx.emit({ kind: "progress", done: 1 });
  assert.deepEqual(events, [{ kind: "progress", done: 1 }]);
  controller.abort();
  assert.ok(ctx.signal.aborted);
});
