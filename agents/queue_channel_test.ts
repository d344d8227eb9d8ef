// A queue as an agent's input, on a real room server: items in, threads stored, bad items skipped.
import assert from "node:assert/strict";
import type { RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import {
  type AgentMessage,
  AgentSupervisor,
  MemoryThreadStorageRepository,
  QueueChannel,
  type QueueChannelOptions,
  ScriptedLLMAdapter,
  type ScriptedModel,
} from "./mod.ts";
import { collectingLog, eventually } from "./testdata/eventually.ts";

/** Tells which user messages it has seen; "slow" streams slowly. */
const model: ScriptedModel = (context) => {
  const users = context.items.filter((i) => i.kind === "user").map((i) =>
    (i as { text: string }).text
  );
  if (users.at(-1) === "slow") return { text: "one two three four five six", delayMs: 150 };
  return { text: `I have seen: ${users.join(" | ")}` };
};

interface Rig {
  agentRoom: RoomClient;
  producer: RoomClient;
  repo: MemoryThreadStorageRepository;
  supervisor: AgentSupervisor;
  channel: QueueChannel;
  log: string[];
  close(): Promise<void>;
}

async function start(
  server: TestServer,
  room: string,
  options: Partial<QueueChannelOptions> = {},
): Promise<Rig> {
  const agentRoom = await server.connect(room, "helper");
  const producer = await server.connect(room, "producer");
  const repo = new MemoryThreadStorageRepository(".threads/helper");
  const { lines, log } = collectingLog();
  const supervisor = new AgentSupervisor({
    agentName: "helper",
    room: agentRoom,
    adapters: new ScriptedLLMAdapter(model, { models: [{ name: "scripted-1" }] }),
    threadStorage: repo,
  });
  const channel = new QueueChannel({ room: agentRoom, queueName: "jobs", log, ...options });
  await supervisor.start([channel]);
  return {
    agentRoom,
    producer,
    repo,
    supervisor,
    channel,
    log: lines,
    async close() {
      await supervisor.stop();
      await producer.dispose();
      await agentRoom.dispose();
    },
  };
}

async function ended(repo: MemoryThreadStorageRepository, thread: string, count: number) {
  const storage = await repo.open(thread);
  return await eventually(async () => {
    const messages = await storage.messages();
    return messages.filter((m) => m.type === "meshagent.agent.turn.ended").length >= count &&
      messages;
  }, `${count} turns on ${thread}`);
}

function answers(messages: AgentMessage[]): string[] {
  return messages.filter((m) => m.type === "meshagent.agent.text_content.delta").map((m) =>
    String(m.text)
  );
}

Deno.test("queue agent: an item makes a stored thread; the same path continues it; no path starts a named thread", async () => {
  const server = await startTestServer();
  const rig = await start(server, "queue");
  try {
    const now = new Date();
    const day = now.toISOString().slice(0, 10);
    await rig.producer.queues.send("jobs", {
      prompt: "first",
      path: "daily/{YYYY}-{MM}-{DD}",
      sender_name: "ada",
    });
    const thread = `daily/${day}`;
    const first = await ended(rig.repo, thread, 1);
    assert.deepEqual(answers(first), ["I have seen: first"]);
    const start = first.find((m) => m.type === "meshagent.agent.turn.start")!;
    assert.equal(start.sender_name, "ada");

    // the word aliases, in any case, name the same thread
    await rig.producer.queues.send("jobs", {
      prompt: "second",
      path: "daily/{year}-{Month}-{DAY}",
    });
    const second = await ended(rig.repo, thread, 2);
    assert.deepEqual(answers(second), ["I have seen: first", "I have seen: first | second"]);

    // a bare string is a prompt; without a path the thread is new and named from it
    await rig.producer.queues.send(
      "jobs",
      "summarize the news" as unknown as Record<string, never>,
    );
    const named = await eventually(async () => {
      const { threads } = await rig.repo.list();
      return threads.find((t) => t.name === "summarize the news");
    }, "the new thread");
    const fresh = await ended(rig.repo, named.path, 1);
    assert.deepEqual(answers(fresh), ["I have seen: summarize the news"]);
    assert.equal(rig.log.length, 0, rig.log.join("\n"));
  } finally {
    await rig.close();
    await server.close();
  }
});

Deno.test("queue agent: malformed items, missing prompt files and refused turns are logged and skipped", async () => {
  const server = await startTestServer();
  const rig = await start(server, "bad");
  try {
    await rig.producer.storage.upload("prompts/hello.txt", new TextEncoder().encode("from a file"));
    const send = (item: unknown) => rig.producer.queues.send("jobs", item as Record<string, never>);
    await send({ content: "not a list", path: "t/bad-content" });
    await send({ content: [{ type: "bogus" }], path: "t/bad-type" });
    await send({ prompt: "x", path: "dataset://elsewhere/t" });
    await send({ prompt: "x", path: "t/model", model: "gpt-9" });
    await send({ prompt_file: "missing.txt", path: "t/missing" });
    await send({ prompt_file: "prompts/hello.txt", path: "t/file" });
    await send({ prompt: [{ type: "file", url: "room:///prompts/hello.txt" }], path: "t/url" });
    await send({ path: "t/json", note: 7 });

    assert.deepEqual(answers(await ended(rig.repo, "t/file", 1)), ["I have seen: from a file"]);
    assert.deepEqual(answers(await ended(rig.repo, "t/url", 1)), ["I have seen: from a file"]);
    // an item without a prompt is given to the model as its JSON
    assert.deepEqual(answers(await ended(rig.repo, "t/json", 1)), [
      'I have seen: {"path":"t/json","note":7}',
    ]);
    // a missing prompt file: logged, and the item's JSON is the prompt
    assert.match(answers(await ended(rig.repo, "t/missing", 1))[0], /prompt_file/);
    await eventually(() => rig.log.length >= 5, "five log lines");
    const log = rig.log.join("\n");
    assert.match(log, /skipped an item: queue item content\[0\] must be an object with a type/);
    assert.match(log, /skipped an item: queue item content\[0\] has an unknown type "bogus"/);
    assert.match(log, /the item for dataset:\/\/elsewhere\/t was refused: there is no thread/);
    assert.match(log, /the item for t\/model was refused: the model gpt-9 is not offered/);
    assert.match(log, /the prompt file missing.txt is not in the room storage/);
    const { threads } = await rig.repo.list();
    for (const path of ["t/bad-content", "t/bad-type"]) {
      assert.ok(!threads.some((t) => t.path === path), `no thread for ${path}`);
    }
    const refused = await (await rig.repo.open("t/model")).messages();
    assert.ok(!refused.some((m) => m.type === "meshagent.agent.turn.started"));
  } finally {
    await rig.close();
    await server.close();
  }
});

Deno.test("queue agent: maxPendingTurns leaves items in the queue; stop() ends the long poll and loses no item", async () => {
  const server = await startTestServer();
  const rig = await start(server, "stop", { maxPendingTurns: 1 });
  try {
    await rig.producer.queues.send("jobs", { prompt: "slow", path: "s/1" });
    await rig.producer.queues.send("jobs", { prompt: "slow", path: "s/2" });
    // while the first runs, the second stays in the queue for other consumers
    await eventually(() => rig.channel.pendingTurns === 1, "the first turn");
    const sizes = await rig.producer.queues.list();
    assert.equal(sizes.find((q) => q.name === "jobs")?.size, 1);
    await ended(rig.repo, "s/2", 1);

    // stop while the channel waits for an item, then send one: the next consumer gets it
    await rig.supervisor.stop();
    await rig.producer.queues.send("jobs", { prompt: "after the stop" });
    const item = await rig.producer.queues.receive("jobs", { timeout: 5000 });
    assert.deepEqual(item, { prompt: "after the stop" });
  } finally {
    await rig.close();
    await server.close();
  }
});
