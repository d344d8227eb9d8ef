import assert from "node:assert/strict";
import { startTestServer } from "@meshagent/server/testing";
import { agentMessage } from "./agent_message.ts";
import {
  DatasetThreadStorageRepository,
  THREAD_INDEX_COLUMNS,
  THREAD_TABLE_COLUMNS,
} from "./dataset_thread_storage.ts";
import type { ThreadIndexEvent } from "./thread_storage.ts";

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("dataset thread storage: the official layout, joined deltas, the index and its events", async () => {
  const server = await startTestServer();
  const room = await server.connect("threads", "agent");
  const other = await server.connect("threads", "other");
  const repo = new DatasetThreadStorageRepository({ room, agentName: "helper" });
  const elsewhere = new DatasetThreadStorageRepository({ room: other, agentName: "helper" });
  try {
    assert.equal(repo.threadDir, "dataset://.threads/helper");
    assert.equal(repo.threadList, "dataset://.threads/helper/index");
    const id = repo.newThreadId();
    assert.match(id, /^dataset:\/\/\.threads\/helper\/[0-9a-f-]{36}$/);
    assert(repo.owns(id));
    assert(!repo.owns("dataset://.threads/other/x"));

    const thread = await repo.open(id);
    const m = (kind: string, fields: Record<string, unknown> = {}) =>
      agentMessage(kind, { thread_id: id, turn_id: "t1", ...fields });
    thread.push(m("turn.start", { content: [{ type: "text", text: "hi" }] }));
    thread.push(m("text_content.delta", { item_id: "i1", text: "hel" }));
    thread.push(m("text_content.delta", { item_id: "i1", text: "lo" }));
    thread.push(m("text_content.ended", { item_id: "i1" }));
    thread.push(m("turn.ended"));
    await thread.flush();

    // Table <uuid> in namespace [".threads", "helper"], with the official columns.
    const table = id.slice(id.lastIndexOf("/") + 1);
    const namespace = [".threads", "helper"];
    assert.deepEqual(await room.datasets.listTables({ namespace }), [table]);
    const columns = await room.datasets.inspect({ table, namespace });
    assert.deepEqual(
      columns.map((c) => [c.name, c.type, c.nullable]),
      THREAD_TABLE_COLUMNS.map((c) => [c.name, c.type, c.nullable]),
    );
    const rows = await room.datasets.searchRows({ table, namespace });
    assert.deepEqual(rows.map((r) => r.sequence), [0, 1, 2, 3]);
    assert.deepEqual(rows.map((r) => r.type), [
      "meshagent.agent.turn.start",
      "meshagent.agent.text_content.delta",
      "meshagent.agent.text_content.ended",
      "meshagent.agent.turn.ended",
    ]);
    assert(rows.every((r) => r.timestamp instanceof Date && typeof r.item_id === "string"));
    assert.equal(JSON.parse(String(rows[1].data)).text, "hello"); // one joined delta

    // Read back (also after reopening: appends continue the sequence).
    assert.deepEqual((await thread.messages()).map((x) => x.text ?? null), [
      null,
      "hello",
      null,
      null,
    ]);
    await thread.close();
    const again = await repo.open(id);
    again.push(m("turn.start", { turn_id: "t2", content: [] }));
    await again.close();
    assert.equal((await again.messages()).length, 5);
    const seq = await room.datasets.searchRows({ table, namespace, where: "turn_id = 't2'" });
    assert.equal(seq[0].sequence, 4);

    // The index: touch, rename, list; another repository sees the changes as events.
    const seen: ThreadIndexEvent[] = [];
    const stop = elsewhere.watch((event) => seen.push(event));
    await new Promise((r) => setTimeout(r, 300)); // its first look at the index
    const info = await repo.touch(id, "greeting");
    assert.equal(info.name, "greeting");
    assert.deepEqual(
      (await room.datasets.inspect({ table: "index", namespace })).map((c) => c.name),
      THREAD_INDEX_COLUMNS.map((c) => c.name),
    );
    await until(() => seen.some((e) => e.kind === "created"), "the created event elsewhere");
    const renamed = await repo.rename(id, "hello there");
    assert.equal(renamed?.name, "hello there");
    assert.equal(renamed?.created_at, info.created_at);
    const listed = await elsewhere.list();
    assert.equal(listed.total, 1);
    assert.equal(listed.threads[0].name, "hello there");
    assert.equal(await repo.rename("dataset://.threads/helper/none", "x"), null);

    assert.equal(await repo.delete(id), true);
    assert.deepEqual(await room.datasets.listTables({ namespace }), ["index"]);
    assert.equal((await repo.list()).total, 0);
    await until(() => seen.some((e) => e.kind === "deleted"), "the deleted event elsewhere");
    assert.equal(await repo.delete(id), false);
    stop();
  } finally {
    await repo.close();
    await elsewhere.close();
    await room.dispose();
    await other.dispose();
    await server.close();
  }
});

Deno.test("dataset thread storage: persistDeltas keeps every delta", async () => {
  const server = await startTestServer();
  const room = await server.connect("verbose", "agent");
  const repo = new DatasetThreadStorageRepository({
    room,
    agentName: "v",
    threadDir: "dataset://agents/v/threads",
    persistDeltas: true,
  });
  try {
    const id = repo.newThreadId();
    assert(id.startsWith("dataset://agents/v/threads/"));
    const thread = await repo.open(id);
    for (const text of ["a", "b", "c"]) {
      thread.push(
        agentMessage("text_content.delta", { thread_id: id, turn_id: "t", item_id: "i", text }),
      );
    }
    await thread.close();
    assert.equal((await thread.messages()).length, 3);
  } finally {
    await repo.close();
    await room.dispose();
    await server.close();
  }
});
