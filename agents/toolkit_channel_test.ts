// An agent as a tool, on a real room server: another participant calls run_<name>_task.
import assert from "node:assert/strict";
import { type RoomClient, RoomError, TextContent } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import {
  AgentSupervisor,
  LLMError,
  MemoryThreadStorageRepository,
  ScriptedLLMAdapter,
  type ScriptedModel,
  type SessionItem,
  ToolkitChannel,
} from "./mod.ts";

let deleted = 0;
const danger = new Toolkit({
  name: "danger",
  tools: [
    new FunctionTool({
      name: "delete_all",
      inputSchema: { type: "object", properties: {}, additionalProperties: false },
      run: () => ++deleted,
    }),
  ],
});

function users(items: readonly SessionItem[]): string[] {
  return items.filter((i) => i.kind === "user").map((i) => (i as { text: string }).text);
}

const model: ScriptedModel = (context, { number }) => {
  const said = users(context.items);
  const last = said.at(-1);
  if (last === "fail") throw new LLMError("the provider answered 500", "provider_error", 500);
  if (last === "clean up" && number === 1) {
    return {
      text: "Let me clean up.",
      toolCalls: [{ toolkit: "danger", tool: "delete_all", arguments: {} }],
    };
  }
  if (last === "clean up") {
    const result = context.items.findLast((i) => i.kind === "tool_result") as {
      output: { text: string }[];
    };
    return { text: `Done: ${result.output.map((o) => o.text).join("")}` };
  }
  if (last === "slow") return { text: "a b c d e f g h i j k l m n o p", delayMs: 100 };
  return { text: `I have seen: ${said.join(" | ")}` };
};

function text(content: unknown): string {
  assert.ok(content instanceof TextContent, `a text result, got ${JSON.stringify(content)}`);
  return content.text;
}

Deno.test("toolkit agent: run_<name>_task returns the final text, continues a thread by path, rejects approvals and fails with the turn's error", async () => {
  const server = await startTestServer();
  const agentRoom = await server.connect("kit", "helper");
  const repo = new MemoryThreadStorageRepository(".threads/helper");
  const supervisor = new AgentSupervisor({
    agentName: "helper",
    room: agentRoom,
    adapters: new ScriptedLLMAdapter(model, { models: [{ name: "scripted-1" }] }),
    threadStorage: repo,
    toolkits: [danger],
    requiresApproval: (_toolkit, tool) => tool === "delete_all",
  });
  await supervisor.start([new ToolkitChannel({ room: agentRoom, toolkitName: "helper" })]);
  const caller: RoomClient = await server.connect("kit", "ada");
  const run = (args: Record<string, unknown>) =>
    caller.agents.invokeTool({
      toolkit: "helper",
      tool: "run_helper_task",
      arguments: args as Record<string, never>,
      timeout: 10_000,
    });
  try {
    // names travel with presence: with messaging on, the agent knows who calls
    await agentRoom.messaging.enable();
    await caller.messaging.enable();
    for (let i = 0; i < 250 && !agentRoom.messaging.getParticipantByName("ada"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const listed = await caller.agents.listToolkits();
    const kit = listed.find((t) => t.name === "helper");
    assert.deepEqual(kit?.tools.map((t) => t.name), ["run_helper_task"]);

    // a new thread, named from the prompt
    assert.equal(text(await run({ prompt: "hello there" })), "I have seen: hello there");
    const { threads } = await repo.list();
    const thread = threads.find((t) => t.name === "hello there");
    assert.ok(thread, "a new thread named from the prompt");

    // path (or thread_id) continues it
    assert.equal(
      text(await run({ prompt: "and again", path: thread.path })),
      "I have seen: hello there | and again",
    );
    assert.equal(
      text(await run({ prompt: "third", thread_id: thread.path, model: null })),
      "I have seen: hello there | and again | third",
    );
    const stored = await (await repo.open(thread.path)).messages();
    const starts = stored.filter((m) => m.type === "meshagent.agent.turn.start");
    assert.deepEqual(starts.map((m) => m.sender_name), ["ada", "ada", "ada"]);

    // an approval request is rejected at once: the tool never runs, the model is told
    const cleaned = text(await run({ prompt: "clean up" }));
    assert.equal(
      cleaned,
      "Let me clean up.\n\nDone: error: the call of delete_all was not approved",
    );
    assert.equal(deleted, 0);

    // a turn that ends with an error fails the call with that error
    await assert.rejects(run({ prompt: "fail" }), (e: RoomError) => {
      assert.match(e.message, /500/);
      assert.equal(e.code, 1008);
      return true;
    });
    // refused turns: an unknown thread (1003), an unknown model (1002)
    await assert.rejects(run({ prompt: "x", path: "dataset://elsewhere/t" }), (e: RoomError) => {
      assert.equal(e.code, 1003);
      assert.match(e.message, /there is no thread dataset:\/\/elsewhere\/t/);
      return true;
    });
    await assert.rejects(run({ prompt: "x", model: "gpt-9" }), (e: RoomError) => {
      assert.equal(e.code, 1002);
      assert.match(e.message, /gpt-9/);
      return true;
    });
    // bad arguments never reach the agent
    await assert.rejects(run({ path: "p" }), (e: RoomError) => {
      assert.equal(e.code, 1002);
      assert.match(e.message, /prompt/);
      return true;
    });
    await assert.rejects(run({ prompt: "x", path: "a", thread_id: "b" }), /different threads/);
    // the agent still works
    assert.equal(text(await run({ prompt: "still there?" })), "I have seen: still there?");
  } finally {
    await caller.dispose();
    await supervisor.stop();
    await agentRoom.dispose();
    await server.close();
  }
});

Deno.test("toolkit agent: a turn past turnTimeoutMs fails the call (1009) and is interrupted; stopping fails waiting calls", async () => {
  const server = await startTestServer();
  const agentRoom = await server.connect("cancel", "helper");
  const repo = new MemoryThreadStorageRepository(".threads/helper");
  const supervisor = new AgentSupervisor({
    agentName: "helper",
    room: agentRoom,
    adapters: new ScriptedLLMAdapter(model),
    threadStorage: repo,
  });
  const channel = new ToolkitChannel({
    room: agentRoom,
    toolkitName: "helper",
    turnTimeoutMs: 300,
  });
  await supervisor.start([channel]);
  const caller = await server.connect("cancel", "ada");
  try {
    // the turn outlives turnTimeoutMs: the call fails with 1009 and the turn is interrupted
    await assert.rejects(
      caller.agents.invokeTool({
        toolkit: "helper",
        tool: "run_helper_task",
        arguments: { prompt: "slow", path: "t/slow" },
      }),
      (e: RoomError) => e.code === 1009,
    );
    const storage = await repo.open("t/slow");
    const ended = await (async () => {
      for (let i = 0; i < 200; i++) {
        const found = (await storage.messages()).find((m) =>
          m.type === "meshagent.agent.turn.ended"
        );
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    assert.equal((ended?.error as { code?: string })?.code, "interrupted");

    // the channel's own toolkit goes away with the channel
    const pending = caller.agents.invokeTool({
      toolkit: "helper",
      tool: "run_helper_task",
      arguments: { prompt: "slow", path: "t/stop" },
    });
    pending.catch(() => {});
    await new Promise((r) => setTimeout(r, 150));
    await supervisor.stop();
    await assert.rejects(pending, RoomError);
    const after = await caller.agents.listToolkits();
    assert.ok(!after.some((t) => t.name === "helper"));
  } finally {
    await caller.dispose();
    await supervisor.stop();
    await agentRoom.dispose();
    await server.close();
  }
});
