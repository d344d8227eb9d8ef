import assert from "node:assert/strict";
import { JsonContent, ToolContext } from "@meshagent/tools";
import { startTestServer } from "@meshagent/server/testing";
import { agentMessage } from "./agent_message.ts";
import { chatTurnToolkit } from "./chat_turn_toolkit.ts";
import { DocumentThreadStorageRepository } from "./document_thread_storage.ts";
import type { AgentEvent } from "./llm_adapter.ts";

type Json = Record<string, unknown> & { threads: { name: string; path: string }[] };

Deno.test("chat toolkit: lists and searches the agent's threads, attaches room files to the turn", async () => {
  const server = await startTestServer();
  const room = await server.connect("chat", "helper");
  const repository = new DocumentThreadStorageRepository({ room, agentName: "helper" });
  try {
    const [a, b, c] = [
      repository.newThreadId(),
      repository.newThreadId(),
      repository.newThreadId(),
    ];
    await repository.touch(a, "Trip to Lisbon");
    await repository.touch(b, "Quarterly report");
    await repository.touch(c, "Lisbon hotels");
    const events: AgentEvent[] = [];
    const chat = chatTurnToolkit({ repository, emit: (e) => events.push(e) });
    const ctx = new ToolContext({ caller: { id: "agent", attributes: {} }, room });
    const call = async (tool: string, args: Record<string, unknown>) => {
      const out = await chat.execute(ctx, tool, args);
      assert(out instanceof JsonContent);
      return out.json as unknown as Json;
    };

    const page = await call("list_threads", { limit: 2, offset: 0 });
    assert.deepEqual(page.threads.map((t) => t.name), ["Lisbon hotels", "Quarterly report"]);
    assert.equal(page.total, 3);
    const rest = await call("list_threads", { limit: 0, offset: 2 });
    assert.deepEqual([rest.limit, rest.threads.map((t) => t.path)], [1, [a]]);
    assert.match(String((await call("list_threads", { limit: 5, offset: 9 })).message), /offset/);

    const found = await call("grep_thread_list", { pattern: "lisbon", ignore_case: true });
    assert.deepEqual(found.threads.map((t) => t.path), [c, a]);
    assert.equal(found.total_matches, 2);
    const cased = await call("grep_thread_list", { pattern: "lisbon", ignore_case: false });
    assert.equal(cased.total_matches, 0);
    await assert.rejects(
      () => call("grep_thread_list", { pattern: "[", ignore_case: true }),
      /not a valid regular expression/,
    );

    // attach_file: a room file that exists is attached to the turn; a missing one is refused.
    await room.storage.upload("reports/q3.pdf", new TextEncoder().encode("%PDF-1.4"));
    assert.deepEqual(await call("attach_file", { path: "/reports/q3.pdf" }), {
      attached: "room:///reports/q3.pdf",
    });
    assert.deepEqual(events.map((e) => e.type), [
      "file_content.started",
      "file_content.delta",
      "file_content.ended",
    ]);
    assert.equal(events[1].url, "room:///reports/q3.pdf");
    assert.ok(events.every((e) => e.item_id === events[0].item_id));
    await assert.rejects(
      () => call("attach_file", { path: "reports/missing.pdf" }),
      (e: Error & { code?: number }) => e.code === 3001 && /no file at/.test(e.message),
    );
    assert.equal(events.length, 3);
    await call("attach_file", { path: "https://example.com/spec.pdf" });
    assert.equal(events.at(-2)?.url, "https://example.com/spec.pdf");
    await assert.rejects(() => call("attach_file", { path: "  " }), /path of a file/);

    // The attached file shows in the thread document as the agent's message with a file.
    const storage = await repository.open(a);
    for (const event of events.slice(0, 3)) {
      storage.push(agentMessage(event.type, { ...event, thread_id: a, turn_id: "t1" }));
    }
    await storage.flush();
    const doc = await room.sync.describe(a) as {
      thread: { properties: { messages?: { items: unknown[] } }[] };
    };
    const items = doc.thread.properties.find((p) => p.messages)!.messages!.items;
    assert.deepEqual(items, [{
      message: {
        id: events[0].item_id,
        turn_id: "t1",
        text: "",
        created_at: (items[0] as { message: { created_at: string } }).message.created_at,
        author_name: "helper",
        role: "assistant",
        attachments: [{ file: { path: "reports/q3.pdf" } }],
      },
    }]);
    await storage.close();

    // Without an event sink there is nothing to attach to.
    const names = chatTurnToolkit({ repository }).tools.map((t) => t.name);
    assert.deepEqual(names, ["list_threads", "grep_thread_list"]);
  } finally {
    await repository.close();
    await room.dispose();
    await server.close();
  }
});
