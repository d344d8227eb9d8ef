import assert from "node:assert/strict";
import { JsonContent, ToolContext } from "@meshagent/tools";
import { startTestServer } from "@meshagent/server/testing";
import { type AgentMessage, agentMessage } from "./agent_message.ts";
import { DocumentThreadStorageRepository } from "./document_thread_storage.ts";
import { ScriptedLLMAdapter } from "./scripted_llm_adapter.ts";
import { MemoryThreadStorageRepository, type ThreadStorage } from "./thread_storage.ts";
import { THREAD_ENTRY_TEXT_LIMIT, threadSearchToolkit } from "./thread_search_toolkit.ts";

const ctx = new ToolContext({ caller: { id: "agent", attributes: { name: "helper" } } });

type Found = {
  total_messages: number;
  total_matches: number;
  messages: { index: number; role: string; author_name?: string; text: string; match: boolean }[];
  message?: string;
};

function pushTurn(
  storage: ThreadStorage,
  turn: string,
  user: string,
  question: string,
  answer: string,
): void {
  const m = (kind: string, fields: Record<string, unknown> = {}) =>
    agentMessage(kind, { thread_id: storage.threadId, turn_id: turn, ...fields });
  storage.push(m("turn.start", { sender_name: user, content: [{ type: "text", text: question }] }));
  storage.push(m("text_content.delta", { item_id: `${turn}-a`, text: answer }));
  storage.push(m("text_content.ended", { item_id: `${turn}-a` }));
  storage.push(m("turn.ended"));
}

async function run(storage: ThreadStorage, tool: string, args: Record<string, unknown>) {
  const out = await threadSearchToolkit(storage, { agentName: "helper" }).execute(ctx, tool, args);
  assert(out instanceof JsonContent);
  return out.json as unknown as Found & Record<string, unknown>;
}

Deno.test("search toolkit: grep finds messages with their neighbours, ranges and counts cover the whole thread", async () => {
  const repo = new MemoryThreadStorageRepository();
  const storage = await repo.open(repo.newThreadId());
  pushTurn(storage, "t1", "ada", "Remember: the password is PINEAPPLE.", "Noted.");
  pushTurn(storage, "t2", "bob", "What is 2+2?", "4");
  storage.push(agentMessage("tool_call.started", {
    thread_id: storage.threadId,
    turn_id: "t2",
    item_id: "c1",
    toolkit: "math",
    tool: "add",
    arguments: { a: 2, b: 2 },
  }));
  storage.push(agentMessage("tool_call.ended", {
    thread_id: storage.threadId,
    turn_id: "t2",
    item_id: "c1",
    result: { type: "json", json: { sum: 4 } },
  }));
  pushTurn(storage, "t3", "ada", "x".repeat(THREAD_ENTRY_TEXT_LIMIT + 10), "long");

  const found = await run(storage, "grep_current_thread", {
    pattern: "pineapple",
    ignore_case: true,
    messages_before: 0,
    messages_after: 1,
  });
  assert.equal(found.total_matches, 1);
  assert.equal(found.total_messages, 7);
  assert.deepEqual(found.messages.map((m) => [m.index, m.role, m.author_name, m.match]), [
    [0, "user", "ada", true],
    [1, "assistant", "helper", false],
  ]);
  assert.match(found.messages[0].text, /PINEAPPLE/);

  const cased = await run(storage, "grep_current_thread", {
    pattern: "pineapple",
    ignore_case: false,
    messages_before: 0,
    messages_after: 0,
  });
  assert.equal(cased.total_matches, 0);
  assert.match(String(cased.message), /no messages/);

  const tool = await run(storage, "grep_current_thread", {
    pattern: "math\\.add",
    ignore_case: false,
    messages_before: 1,
    messages_after: 0,
  });
  assert.deepEqual(tool.messages.map((m) => m.text), ["4", 'math.add({"a":2,"b":2}) → {"sum":4}']);

  await assert.rejects(
    () =>
      run(storage, "grep_current_thread", {
        pattern: "(",
        ignore_case: true,
        messages_before: 0,
        messages_after: 0,
      }),
    /not a valid regular expression/,
  );
  // The schema is strict: a model that forgets an argument is told.
  await assert.rejects(() => run(storage, "grep_current_thread", { pattern: "x" }), /ignore_case/);

  const range = await run(storage, "get_message_range", { start: 2, end: 4 });
  assert.deepEqual(range.messages.map((m) => m.text), ["What is 2+2?", "4"]);
  const last = await run(storage, "get_message_range", { start: -2, end: 100 });
  assert.deepEqual(last.messages.map((m) => [m.index, m.text.length]), [
    [5, THREAD_ENTRY_TEXT_LIMIT + 1],
    [6, 4],
  ]);
  assert.equal((last.messages[0] as { truncated?: boolean }).truncated, true);
  const none = await run(storage, "get_message_range", { start: 50, end: 60 });
  assert.deepEqual(none.messages, []);

  const count = await run(storage, "count_current_thread_messages", {});
  assert.equal(count.count, 7);
});

Deno.test("search toolkit: a model searches a thread kept in the room, and the search is itself kept", async () => {
  const server = await startTestServer();
  const room = await server.connect("search", "helper");
  const repo = new DocumentThreadStorageRepository({ room, agentName: "helper" });
  try {
    const storage = await repo.open(repo.newThreadId());
    pushTurn(storage, "t1", "ada", "My locker code is 4711.", "I will remember.");
    for (let i = 0; i < 5; i++) pushTurn(storage, `f${i}`, "ada", `filler ${i}`, `ok ${i}`);
    // The model's context holds only the last question; it finds the code with the tool.
    const adapter = new ScriptedLLMAdapter((context, round) => {
      if (round.number === 1) {
        return {
          toolCalls: [{
            toolkit: "search",
            tool: "grep_current_thread",
            arguments: {
              pattern: "locker",
              ignore_case: true,
              messages_before: 0,
              messages_after: 0,
            },
          }],
        };
      }
      const result = context.items.at(-1) as { output: { text: string }[] };
      const found = JSON.parse(result.output[0].text) as Found;
      return { text: `Your code: ${found.messages[0].text.match(/\d+/)?.[0]}` };
    });
    const context = adapter.createSession();
    context.appendUserMessage("What was my locker code?");
    const events: AgentMessage[] = [];
    const response = await adapter.createResponse({
      context,
      caller: { id: "agent", attributes: {} },
      toolkits: [threadSearchToolkit(storage, { agentName: "helper" })],
      onEvent: (event) => {
        const message = agentMessage(event.type, {
          ...event,
          thread_id: storage.threadId,
          turn_id: "t9",
        });
        events.push(message);
        storage.push(message);
      },
    });
    assert.equal(response.text, "Your code: 4711");
    const stored = await storage.messages();
    const call = stored.find((m) => m.type.endsWith("tool_call.ended"))!;
    assert.equal(call.tool, "grep_current_thread");
    assert.match(JSON.stringify(call.result), /4711/);
    await storage.close();
  } finally {
    await repo.close();
    await room.dispose();
    await server.close();
  }
});
