import assert from "node:assert/strict";
import type { Element, RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { type AgentMessage, agentMessage } from "./agent_message.ts";
import { sessionItemsFromMessages } from "./agent_event_reader.ts";
import { AgentSupervisor } from "./agent_supervisor.ts";
import { Channel } from "./channel.ts";
import { chatTurnToolkit } from "./chat_turn_toolkit.ts";
import { DocumentThreadStorageRepository } from "./document_thread_storage.ts";
import { ScriptedLLMAdapter } from "./scripted_llm_adapter.ts";
import { threadSearchToolkit } from "./thread_search_toolkit.ts";
import type { ThreadIndexEvent } from "./thread_storage.ts";
import { threadListSchema } from "./thread_schema.ts";

const ROOM = "threads";
const AGENT = "helper";

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function withServer(fn: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer();
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

async function withRoom<T>(
  server: TestServer,
  name: string,
  fn: (room: RoomClient) => Promise<T>,
): Promise<T> {
  const room = await server.connect(ROOM, name);
  try {
    return await fn(room);
  } finally {
    await room.dispose();
  }
}

/** A realistic conversation: two turns, a file, reasoning, tool calls (one failing), errors. */
function conversation(threadId: string): AgentMessage[] {
  const m = (kind: string, fields: Record<string, unknown> = {}) =>
    agentMessage(kind, { thread_id: threadId, ...fields });
  const llm = { provider: "openai", model: "gpt-test" };
  const start = m("turn.start", {
    turn_id: "t1",
    sender_name: "ada",
    content: [
      { type: "text", text: "Add 1 and 2, then read the plan." },
      { type: "file", url: "room:///docs/plan.md" },
    ],
  });
  const start2 = m("turn.start", {
    turn_id: "t2",
    sender_name: "ada",
    content: [{ type: "text", text: "Now summarise it." }],
  });
  return [
    start,
    m("turn.start.accepted", { turn_id: "t1", source_message_id: start.message_id }),
    m("turn.started", { turn_id: "t1", source_message_id: start.message_id }),
    m("reasoning_content.started", { ...llm, turn_id: "t1", item_id: "r1" }),
    m("reasoning_content.delta", { ...llm, turn_id: "t1", item_id: "r1", text: "The user " }),
    m("reasoning_content.delta", { ...llm, turn_id: "t1", item_id: "r1", text: "wants a sum." }),
    m("reasoning_content.ended", { ...llm, turn_id: "t1", item_id: "r1" }),
    m("text_content.started", { ...llm, turn_id: "t1", item_id: "a1" }),
    m("text_content.delta", { ...llm, turn_id: "t1", item_id: "a1", text: "Let me " }),
    m("text_content.delta", { ...llm, turn_id: "t1", item_id: "a1", text: "check." }),
    m("text_content.ended", { ...llm, turn_id: "t1", item_id: "a1" }),
    m("tool_call.pending", { ...llm, turn_id: "t1", item_id: "c1", toolkit: "math", tool: "add" }),
    m("tool_call.arguments_delta", { ...llm, turn_id: "t1", item_id: "c1", delta: '{"a":1' }),
    m("tool_call.started", {
      ...llm,
      turn_id: "t1",
      item_id: "c1",
      call_id: "call_1",
      namespace: "meshagent",
      toolkit: "math",
      tool: "add",
      arguments: { a: 1, b: 2 },
    }),
    m("tool_call.log_delta", {
      ...llm,
      turn_id: "t1",
      item_id: "c1",
      lines: [{ source: "stdout", text: "adding" }],
    }),
    m("tool_call.ended", {
      ...llm,
      turn_id: "t1",
      item_id: "c1",
      call_id: "call_1",
      namespace: "meshagent",
      toolkit: "math",
      tool: "add",
      result: { type: "json", json: { sum: 3 } },
    }),
    m("tool_call.started", {
      ...llm,
      turn_id: "t1",
      item_id: "c2",
      call_id: "call_2",
      namespace: "meshagent",
      toolkit: "storage",
      tool: "read_file",
      arguments: { path: "docs/plan.md" },
    }),
    m("tool_call.ended", {
      ...llm,
      turn_id: "t1",
      item_id: "c2",
      call_id: "call_2",
      namespace: "meshagent",
      toolkit: "storage",
      tool: "read_file",
      error: { message: "permission denied" },
    }),
    m("thread.event", {
      turn_id: "t1",
      event: { id: "llm.retry:2", kind: "llm.retry", state: "in_progress", headline: "Retry 1/3" },
    }),
    m("thread.event", {
      turn_id: "t1",
      event: { id: "llm.retry:2", kind: "llm.retry", state: "in_progress", headline: "Retry 2/3" },
    }),
    m("text_content.delta", { ...llm, turn_id: "t1", item_id: "a2", text: "The sum is 3; " }),
    m("text_content.delta", { ...llm, turn_id: "t1", item_id: "a2", text: "I cannot read it." }),
    m("text_content.ended", { ...llm, turn_id: "t1", item_id: "a2" }),
    m("file_content.started", { ...llm, turn_id: "t1", item_id: "f1" }),
    m("file_content.delta", { ...llm, turn_id: "t1", item_id: "f1", url: "room:///docs/sum.txt" }),
    m("file_content.ended", { ...llm, turn_id: "t1", item_id: "f1" }),
    m("usage.updated", { turn_id: "t1", usage: { input_tokens: 120, output_tokens: 30 } }),
    m("turn.ended", { turn_id: "t1" }),
    start2,
    m("turn.steer", {
      turn_id: "t2",
      sender_name: "ada",
      content: [{ type: "text", text: "Keep it short." }],
    }),
    m("text_content.delta", { ...llm, turn_id: "t2", item_id: "a3", text: "The plan is" }),
    m("turn.ended", {
      turn_id: "t2",
      error: { message: "the provider answered 500", code: "provider_error" },
    }),
  ];
}

Deno.test("document threads: a turn pushed by one agent comes back to a restarted agent as the same LLM context", async () => {
  await withServer(async (server) => {
    let threadId = "";
    let original: AgentMessage[] = [];
    await withRoom(server, AGENT, async (room) => {
      const repo = new DocumentThreadStorageRepository({ room, agentName: AGENT });
      threadId = repo.newThreadId();
      assert.match(threadId, /^\.threads\/helper\/[0-9a-f-]{36}\.thread$/);
      assert.ok(repo.owns(threadId) && !repo.owns("tmp://x/y"));
      const storage = await repo.open(threadId);
      original = conversation(threadId);
      for (const message of original) storage.push(message);
      await repo.touch(threadId, "Sums");
      await storage.flush();
      await storage.close();
      await repo.close();
    });
    // The agent restarts (and the room server too): a new connection and a new repository.
    await server.restart();
    await withRoom(server, AGENT, async (room) => {
      const repo = new DocumentThreadStorageRepository({ room, agentName: AGENT });
      try {
        const storage = await repo.open(threadId);
        const restored = await storage.messages();
        assert.deepEqual(sessionItemsFromMessages(restored), sessionItemsFromMessages(original));
        // What the context does not need survives too.
        const kinds = restored.map((m) => m.type.replace("meshagent.agent.", ""));
        assert.deepEqual(kinds.filter((k) => k === "turn.ended").length, 2);
        const usage = restored.find((m) => m.type.endsWith("usage.updated"))!;
        assert.deepEqual(usage, original.find((m) => m.type.endsWith("usage.updated")));
        const ended = restored.filter((m) => m.type.endsWith("turn.ended"));
        assert.deepEqual(ended.map((m) => m.error), [undefined, {
          message: "the provider answered 500",
          code: "provider_error",
        }]);
        const events = restored.filter((m) => m.type.endsWith("thread.event"));
        assert.deepEqual(events.map((m) => (m.event as { headline: string }).headline), [
          "Retry 2/3",
        ]);
        assert.ok(kinds.includes("turn.steer"));
        const file = restored.find((m) => m.type.endsWith("file_content.delta"))!;
        assert.deepEqual([file.item_id, file.url], ["f1", "room:///docs/sum.txt"]);
        const log = restored.find((m) => m.type.endsWith("tool_call.log_delta"))!;
        assert.deepEqual(log.lines, [{ source: "stdout", text: "adding" }]);
        assert.equal((await repo.list()).threads[0].name, "Sums");
      } finally {
        await repo.close();
      }
    });
  });
});

Deno.test("document threads: another participant reads the conversation through sync, and sees the answer grow", async () => {
  await withServer(async (server) => {
    await withRoom(server, AGENT, async (agent) => {
      await withRoom(server, "bob", async (bob) => {
        const repo = new DocumentThreadStorageRepository({
          room: agent,
          agentName: AGENT,
          liveTextIntervalMs: 20,
        });
        try {
          const threadId = repo.newThreadId();
          const storage = await repo.open(threadId);
          const m = (kind: string, fields: Record<string, unknown>) =>
            agentMessage(kind, { thread_id: threadId, turn_id: "t1", ...fields });
          storage.push(m("turn.start", {
            sender_name: "bob",
            content: [{ type: "text", text: "What is 2+2?" }, {
              type: "file",
              url: "room:///notes/math.txt",
            }],
          }));
          storage.push(m("text_content.delta", { item_id: "a1", text: "It is " }));
          await storage.flush();

          const doc = await bob.sync.open(threadId, { create: false });
          const items = () =>
            doc.root.children.find((c) => c.tagName === "messages")?.children ?? [];
          const texts = () =>
            items().filter((e) => e.tagName === "message").map((e) => [
              e.getAttribute("role"),
              e.getAttribute("author_name"),
              e.getAttribute("text"),
            ]);
          await until(() => texts().length === 2, "both messages");
          assert.deepEqual(texts(), [["user", "bob", "What is 2+2?"], [
            "assistant",
            AGENT,
            "It is ",
          ]]);
          const user = items()[0] as Element;
          assert.deepEqual(user.children.map((c) => c.getAttribute("path")), ["notes/math.txt"]);
          // The answer grows while it streams, before it ends.
          storage.push(m("text_content.delta", { item_id: "a1", text: "four" }));
          await until(() => texts()[1]?.[2] === "It is four", "the streamed text");
          storage.push(m("text_content.ended", { item_id: "a1" }));
          storage.push(m("turn.ended", {}));
          await storage.flush();
          await until(() => items().some((e) => e.getAttribute("kind") === "turn"), "turn end");
          const turn = items().find((e) => e.getAttribute("kind") === "turn")!;
          assert.equal(turn.getAttribute("state"), "completed");
          const members = doc.root.children.find((c) => c.tagName === "members")!;
          assert.deepEqual(members.children.map((c) => c.getAttribute("name")), [AGENT, "bob"]);
          await bob.sync.close(threadId);
          await storage.close();
        } finally {
          await repo.close();
        }
      });
    });
  });
});

Deno.test("document threads: the index lists newest first, renames, deletes, and watchers see changes from here and from others", async () => {
  await withServer(async (server) => {
    await withRoom(server, AGENT, async (room) => {
      await withRoom(server, `${AGENT}-2`, async (other) => {
        const repo = new DocumentThreadStorageRepository({ room, agentName: AGENT });
        // A second repository on the same folder (another process of the agent, or a UI).
        const peer = new DocumentThreadStorageRepository({ room: other, agentName: AGENT });
        try {
          const events: ThreadIndexEvent[] = [];
          const unwatch = repo.watch((e) => events.push(e));
          const [a, b, c] = [repo.newThreadId(), repo.newThreadId(), repo.newThreadId()];
          await repo.touch(a, "first");
          await repo.touch(b, "second");
          await repo.touch(c);
          assert.deepEqual((await repo.list()).threads.map((t) => t.path), [c, b, a]);
          await repo.touch(a); // bumped: newest now
          const listed = await repo.list({ limit: 2 });
          assert.deepEqual(listed.threads.map((t) => t.path), [a, c]);
          assert.equal(listed.total, 3);
          assert.deepEqual((await repo.list({ offset: 2 })).threads.map((t) => t.path), [b]);

          assert.equal((await repo.rename(b, "renamed"))?.name, "renamed");
          assert.equal(await repo.rename("nope.thread", "x"), null);

          // A thread with a document: deleting removes the file and the entry.
          const storage = await repo.open(b);
          storage.push(agentMessage("turn.start", {
            thread_id: b,
            content: [{ type: "text", text: "hi" }],
          }));
          await storage.flush();
          assert.ok(await room.storage.exists(b));
          assert.equal(await repo.delete(b), true);
          assert.equal(await room.storage.exists(b), false);
          assert.deepEqual((await repo.list()).threads.map((t) => t.path), [a, c]);
          assert.equal(await repo.delete(b), false);

          // Changes made by the peer arrive through sync.
          const d = peer.newThreadId();
          await peer.touch(d, "from the peer");
          await until(() => events.some((e) => e.thread.path === d), "the peer's thread");
          assert.deepEqual((await repo.list()).threads[0].name, "from the peer");

          const summary = events.map((e) => `${e.kind} ${e.thread.name ?? ""}`);
          assert.deepEqual(summary, [
            "created first",
            "created second",
            "created ",
            "updated first",
            "updated renamed",
            "deleted renamed",
            "created from the peer",
          ]);
          unwatch();
          await repo.touch(c, "after unwatch");
          assert.equal(events.length, 7);
          // The file of a deleted thread stays deleted once the room has saved and unloaded it.
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(await room.storage.exists(b), false);
        } finally {
          await peer.close();
          await repo.close();
        }
      });
    });
  });
});

Deno.test("document threads: clear removes every item; a thread document written by someone else is read", async () => {
  await withServer(async (server) => {
    await withRoom(server, AGENT, async (room) => {
      const repo = new DocumentThreadStorageRepository({
        room,
        agentName: AGENT,
        threadDir: "/agents/helper/threads/",
      });
      try {
        assert.equal(repo.threadDir, "/agents/helper/threads");
        assert.equal(repo.threadList, "/agents/helper/threads/index.threadl");
        const id = repo.newThreadId();
        assert.ok(repo.owns(id) && repo.owns(id.slice(1)));
        const storage = await repo.open(id);
        storage.push(agentMessage("turn.start", {
          thread_id: id,
          content: [{ type: "text", text: "hello" }],
        }));
        assert.equal((await storage.messages()).length, 1);
        await storage.clear();
        assert.deepEqual(await storage.messages(), []);
        // A legacy ChatBot writes plain messages: by the agent, and by people.
        const doc = await room.sync.open(id);
        const list = doc.root.children.find((c) => c.tagName === "messages")!;
        list.createChildElement("message", { text: "question", author_name: "zoe" });
        list.createChildElement("message", { text: "answer", author_name: AGENT });
        list.createChildElement("exec", { command: "ls" });
        const items = sessionItemsFromMessages(await storage.messages());
        assert.deepEqual(items.map((i) => [i.kind, (i as { text: string }).text]), [
          ["user", "question"],
          ["assistant", "answer"],
        ]);
        await room.sync.close(id);
        await storage.close();
        await room.sync.create("notes/x.threadl", { schema: threadListSchema });
        await assert.rejects(() => repo.open("notes/x.threadl"), /not a thread/);
      } finally {
        await repo.close();
      }
    });
  });
});

Deno.test("document threads: a supervisor keeps its threads in the room, gives each turn the search and chat toolkits, and a restarted agent remembers", async () => {
  class Collect extends Channel {
    readonly name = "test";
    readonly got: AgentMessage[] = [];
    deliver(message: AgentMessage) {
      this.got.push(message);
    }
  }
  const sender = { id: "p1", name: "ada", attributes: { name: "ada" } };
  // The model searches when asked to, and otherwise says how much of the thread it sees.
  const model = new ScriptedLLMAdapter((context, round) => {
    const last = context.items.at(-1)!;
    if (last.kind === "user" && last.text.includes("search") && round.number === 1) {
      return {
        toolCalls: [{
          toolkit: "search",
          tool: "grep_current_thread",
          arguments: { pattern: "code", ignore_case: true, messages_before: 0, messages_after: 0 },
        }],
      };
    }
    if (last.kind === "tool_result") {
      return { text: `found: ${last.output.map((p) => p.type === "text" ? p.text : "").join("")}` };
    }
    return { text: `I see ${context.items.length} items` };
  });
  const agent = async (room: RoomClient) => {
    const repository = new DocumentThreadStorageRepository({ room, agentName: AGENT });
    const channel = new Collect();
    const supervisor = new AgentSupervisor({
      agentName: AGENT,
      room,
      adapters: model,
      threadStorage: repository,
      turnToolkits: (turn) => [
        threadSearchToolkit(turn.process.storage, { agentName: AGENT }),
        chatTurnToolkit({
          repository: turn.repository,
          emit: ({ type, ...fields }) => turn.emit(type, fields),
        }),
      ],
    });
    await supervisor.start([channel]);
    const say = async (threadId: string, text: string) => {
      const before = channel.got.length;
      await supervisor.route({
        data: agentMessage("turn.start", {
          thread_id: threadId,
          content: [{ type: "text", text }],
        }),
        sender,
      }, channel);
      await supervisor.idle(threadId);
      return channel.got.slice(before)
        .filter((m) => m.type.endsWith("text_content.delta"))
        .map((m) => m.text).join("");
    };
    return { repository, supervisor, say };
  };
  await withServer(async (server) => {
    let threadId = "";
    await withRoom(server, AGENT, async (room) => {
      const { repository, supervisor, say } = await agent(room);
      threadId = repository.newThreadId();
      assert.equal(await say(threadId, "my code is 4711"), "I see 1 items");
      assert.match(await say(threadId, "please search for it"), /found: .*my code is 4711/);
      await supervisor.stop();
      await repository.close();
    });
    await server.restart();
    await withRoom(server, AGENT, async (room) => {
      const { repository, supervisor, say } = await agent(room);
      try {
        // user, assistant, user, tool call, tool result, assistant — and the new question.
        assert.equal(await say(threadId, "what do you see?"), "I see 7 items");
        const listed = await repository.list();
        assert.deepEqual(listed.threads.map((t) => t.path), [threadId]);
      } finally {
        await supervisor.stop();
        await repository.close();
      }
    });
  });
});
