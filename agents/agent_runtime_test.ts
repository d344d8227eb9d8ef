// The runtime's less common paths in a real room: approvals, client toolkits, a participant that
// leaves mid-turn, model requests and changes, and per-participant thread isolation.
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import {
  AgentSupervisor,
  type AgentSupervisorOptions,
  MemoryThreadStorageRepository,
  MessagingChatChannel,
  ScriptedLLMAdapter,
  type ScriptedModel,
} from "./mod.ts";
import { ChatUser } from "./testdata/chat_user.ts";
import { FunctionTool, Toolkit } from "@meshagent/tools";

const danger = new Toolkit({
  name: "danger",
  tools: [
    new FunctionTool({
      name: "launch",
      inputSchema: { type: "object", properties: {} },
      run: () => "launched",
    }),
  ],
});

/** Calls `toolkit.tool` once, then says what the tool answered. */
function callOnce(toolkit: string, tool: string, args: unknown = {}): ScriptedModel {
  return (context, { number }) => {
    if (number === 1) return { toolCalls: [{ toolkit, tool, arguments: args }] };
    const result = context.items.findLast((i) => i.kind === "tool_result") as {
      output: { text: string }[];
    };
    return { text: `tool said: ${result.output[0].text}` };
  };
}

async function withAgent(
  server: TestServer,
  room: string,
  options: Partial<AgentSupervisorOptions>,
  fn: (supervisor: AgentSupervisor) => Promise<void>,
): Promise<void> {
  const agentRoom = await server.connect(room, "helper");
  const supervisor = new AgentSupervisor({
    agentName: "helper",
    room: agentRoom,
    adapters: new ScriptedLLMAdapter(() => ({ text: "ok" })),
    ...options,
  });
  await supervisor.start([new MessagingChatChannel({ room: agentRoom })]);
  try {
    await fn(supervisor);
  } finally {
    await supervisor.stop();
    await agentRoom.dispose();
  }
}

Deno.test("runtime: a tool call that needs approval waits for the person, and a rejection is told to the model", async () => {
  const server = await startTestServer();
  try {
    await withAgent(server, "approve", {
      adapters: new ScriptedLLMAdapter(callOnce("danger", "launch")),
      toolkits: [danger],
      requiresApproval: (toolkit) => toolkit === "danger",
    }, async () => {
      const alice = await ChatUser.join(await server.connect("approve", "alice"), "helper");
      try {
        for (
          const [answer, expected] of [["tool_call.approve", "tool said: launched"], [
            "tool_call.reject",
            /not approved/,
          ]] as const
        ) {
          const sent = await alice.send("turn.start", {
            thread_id: `t-${answer}`,
            content: [{ type: "text", text: "go" }],
          });
          const accepted = await alice.waitFor(
            "turn.start.accepted",
            (m) => m.source_message_id === sent.message_id,
          );
          const asked = await alice.waitFor(
            "tool_call.approval_requested",
            (m) => m.turn_id === accepted.turn_id,
          );
          assert.equal(asked.tool, "launch");
          assert.equal(asked.provider, "scripted");
          await alice.send(answer, {
            thread_id: `t-${answer}`,
            turn_id: accepted.turn_id,
            item_id: asked.item_id,
          });
          await alice.waitFor("turn.ended", (m) => m.turn_id === accepted.turn_id);
          const text = alice.of("text_content.delta", (m) => m.turn_id === accepted.turn_id).map((
            m,
          ) => m.text).join("");
          if (typeof expected === "string") assert.equal(text, expected);
          else assert.match(text, expected);
        }
      } finally {
        alice.dispose();
        await alice.room.dispose();
      }
    });
  } finally {
    await server.close();
  }
});

Deno.test("runtime: client toolkits run at the person who started the turn; leaving mid-turn ends it with an error", async () => {
  const server = await startTestServer();
  try {
    await withAgent(server, "client", {
      adapters: new ScriptedLLMAdapter(callOnce("ui", "pick_color", { hint: "warm" })),
    }, async () => {
      const clientToolkits = [{
        name: "ui",
        description: "the person's UI",
        tools: [{
          name: "pick_color",
          input_schema: { type: "object", properties: { hint: { type: "string" } } },
        }],
      }];
      const alice = await ChatUser.join(await server.connect("client", "alice"), "helper");
      const bob = await ChatUser.join(await server.connect("client", "bob"), "helper");
      try {
        // answered: the result goes back to the model
        const sent = await alice.send("turn.start", {
          thread_id: "a",
          client_toolkits: clientToolkits,
          content: [{ type: "text", text: "pick" }],
        });
        const accepted = await alice.waitFor(
          "turn.start.accepted",
          (m) => m.source_message_id === sent.message_id,
        );
        const request = await alice.waitFor(
          "client_tool_call.requested",
          (m) => m.turn_id === accepted.turn_id,
        );
        assert.deepEqual(request.arguments, { hint: "warm" });
        assert.equal(request.target_participant_id, alice.room.localParticipant!.id);
        // someone else may not steer a turn that uses alice's tools
        const steer = await bob.send("turn.steer", {
          thread_id: "a",
          turn_id: accepted.turn_id,
          content: [{ type: "text", text: "x" }],
        });
        const refused = await bob.waitFor(
          "turn.steer.rejected",
          (m) => m.source_message_id === steer.message_id,
        );
        assert.equal((refused.error as { code: string }).code, "turn_owned_by_participant");
        await alice.send("client_tool_call.response", {
          thread_id: "a",
          request_id: request.request_id,
          result: { type: "text", text: "orange" },
        });
        await alice.waitFor("turn.ended", (m) => m.turn_id === accepted.turn_id);
        const text = alice.of("text_content.delta", (m) => m.turn_id === accepted.turn_id).map((
          m,
        ) => m.text).join("");
        assert.match(text, /orange/);

        // bob starts a turn that waits on his tool, then leaves: the turn ends with an error
        const second = await bob.send("turn.start", {
          thread_id: "b",
          client_toolkits: clientToolkits,
          content: [{ type: "text", text: "pick" }],
        });
        const bobTurn = await bob.waitFor(
          "turn.start.accepted",
          (m) => m.source_message_id === second.message_id,
        );
        await bob.waitFor("client_tool_call.requested", (m) => m.turn_id === bobTurn.turn_id);
        // alice watches thread b (a turn.steer would be refused; opening it is enough)
        const opened = await alice.send("thread.open", { thread_id: "b" });
        await alice.waitFor("thread.loaded", (m) => m.source_message_id === opened.message_id);
        bob.dispose();
        await bob.room.dispose();
        const ended = await alice.waitFor("turn.ended", (m) => m.turn_id === bobTurn.turn_id);
        assert.match(String((ended.error as { message: string }).message), /participant .* left/);
        // and the agent serves on
        const again = await alice.turn("c", "still here?");
        assert.equal(again.ended.error, undefined);
      } finally {
        alice.dispose();
        await alice.room.dispose();
      }
    });
  } finally {
    await server.close();
  }
});

Deno.test("runtime: models.request lists every provider; model.change switches the thread's provider", async () => {
  const server = await startTestServer();
  try {
    await withAgent(server, "models", {
      adapters: [
        new ScriptedLLMAdapter(() => ({ text: "from a" }), {
          provider: "a",
          models: [{ name: "a-1" }, { name: "a-2" }],
        }),
        new ScriptedLLMAdapter(() => ({ text: "from b" }), { provider: "b", model: "b-1" }),
      ],
    }, async () => {
      const alice = await ChatUser.join(await server.connect("models", "alice"), "helper");
      try {
        const asked = await alice.send("models.request", {});
        const models = await alice.waitFor(
          "models.response",
          (m) => m.source_message_id === asked.message_id,
        );
        const providers = models.providers as { name: string; models: { name: string }[] }[];
        assert.deepEqual(providers.map((p) => [p.name, p.models.map((m) => m.name)]), [["a", [
          "a-1",
          "a-2",
        ]], ["b", ["b-1"]]]);
        assert.equal((await alice.turn("t", "hi")).text, "from a");
        await alice.send("model.change", { thread_id: "t", provider: "b", model: "b-1" });
        const changed = await alice.waitFor("model.changed", (m) => m.provider === "b");
        assert.equal(changed.model, "b-1");
        assert.equal((await alice.turn("t", "hi again")).text, "from b");
      } finally {
        alice.dispose();
        await alice.room.dispose();
      }
    });
  } finally {
    await server.close();
  }
});

Deno.test("runtime: participant isolation — each person lists and opens only their own threads", async () => {
  const server = await startTestServer();
  try {
    await withAgent(server, "iso", {
      threadIsolation: "participant",
      threadStorage: (p) => new MemoryThreadStorageRepository(`.threads/helper/${p.name}`),
    }, async () => {
      const alice = await ChatUser.join(await server.connect("iso", "alice"), "helper");
      const bob = await ChatUser.join(await server.connect("iso", "bob"), "helper");
      try {
        const thread = await alice.startThread();
        assert.match(thread, /\.threads\/helper\/alice\//);
        await alice.turn(thread, "mine");
        const listing = await bob.send("thread.list", {});
        const listed = await bob.waitFor(
          "thread.listed",
          (m) => m.source_message_id === listing.message_id,
        );
        assert.deepEqual(listed.threads, []);
        const sent = await bob.send("turn.start", {
          thread_id: thread,
          content: [{ type: "text", text: "let me in" }],
        });
        const refused = await bob.waitFor(
          "turn.start.rejected",
          (m) => m.source_message_id === sent.message_id,
        );
        assert.equal((refused.error as { code: string }).code, "unknown_thread");
      } finally {
        alice.dispose();
        bob.dispose();
        await alice.room.dispose();
        await bob.room.dispose();
      }
    });
  } finally {
    await server.close();
  }
});
