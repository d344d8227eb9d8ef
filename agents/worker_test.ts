// A Worker in a real room: jobs from its queue (and from its queue_<name>_task tool) become
// threads stored as MeshDocuments that another participant can read.
import assert from "node:assert/strict";
import { startTestServer } from "@meshagent/server/testing";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import {
  type AgentMessage,
  DocumentThreadStorageRepository,
  ScriptedLLMAdapter,
  type ScriptedModel,
  Worker,
} from "./mod.ts";
import { collectingLog, eventually } from "./testdata/eventually.ts";

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

const model: ScriptedModel = (context, { number, model }) => {
  const job = (context.items.findLast((i) => i.kind === "user") as { text: string }).text;
  if (job === "clean up" && number === 1) {
    return { toolCalls: [{ toolkit: "danger", tool: "delete_all", arguments: {} }] };
  }
  if (job === "clean up") {
    const result = context.items.findLast((i) => i.kind === "tool_result") as {
      output: { text: string }[];
    };
    return { text: result.output[0].text };
  }
  return { text: `[${context.rules.join("; ")}] ${model} summary of: ${job}` };
};

function answer(messages: AgentMessage[]): string {
  return messages.filter((m) => m.type === "meshagent.agent.text_content.delta").map((m) => m.text)
    .join("");
}

Deno.test("worker: queued jobs and queue_<name>_task calls become stored threads; model overrides; approvals rejected", async () => {
  const server = await startTestServer();
  const { lines, log } = collectingLog();
  const worker = new Worker({
    name: "summarizer",
    queue: "articles",
    llmAdapter: new ScriptedLLMAdapter(model, {
      models: [{ name: "scripted-1" }, { name: "scripted-2" }],
    }),
    rules: ["summarize in one line"],
    toolkits: [danger],
    toolkitName: "summarizer",
    requiresApproval: (_toolkit, tool) => tool === "delete_all",
    log,
  });
  const agentRoom = await server.connect("work", "summarizer");
  await worker.start({ room: agentRoom });
  const producer = await server.connect("work", "producer");
  // another participant reads the worker's threads from the room's documents
  const threads = new DocumentThreadStorageRepository({
    room: producer,
    agentName: "summarizer",
    threadDir: ".threads",
  });
  const threadNamed = async (name: string) => {
    const listed = await eventually(async () => {
      const { threads: all } = await threads.list();
      return all.find((t) => t.name === name);
    }, `the thread ${name}`);
    const storage = await threads.open(listed.path);
    return await eventually(async () => {
      const messages = await storage.messages();
      return messages.some((m) => m.type === "meshagent.agent.turn.ended") && messages;
    }, `the end of ${name}`);
  };
  try {
    await producer.queues.send("articles", { prompt: "article one" });
    assert.equal(
      answer(await threadNamed("article one")),
      "[summarize in one line] scripted-1 summary of: article one",
    );

    await producer.agents.invokeTool({
      toolkit: "summarizer",
      tool: "queue_summarizer_task",
      arguments: { prompt: "article two" },
    });
    assert.equal(
      answer(await threadNamed("article two")),
      "[summarize in one line] scripted-1 summary of: article two",
    );

    await producer.queues.send("articles", { prompt: "article three", model: "scripted-2" });
    assert.match(
      answer(await threadNamed("article three")),
      /scripted-2 summary of: article three/,
    );

    // nobody can approve a queued job's tool call: it is rejected, the tool never runs
    await producer.queues.send("articles", { prompt: "clean up" });
    assert.equal(
      answer(await threadNamed("clean up")),
      "error: the call of delete_all was not approved",
    );
    assert.equal(deleted, 0);

    // jobs with the same path (time tokens expanded) share one thread document
    await producer.queues.send("articles", {
      prompt: "daily one",
      path: ".threads/daily-{YYYY}.thread",
    });
    await producer.queues.send("articles", {
      prompt: "daily two",
      path: ".threads/daily-{YYYY}.thread",
    });
    const daily = await threads.open(`.threads/daily-${new Date().getUTCFullYear()}.thread`);
    const both = await eventually(async () => {
      const messages = await daily.messages();
      return messages.filter((m) => m.type === "meshagent.agent.turn.ended").length === 2 &&
        messages;
    }, "two turns on the daily thread");
    assert.match(answer(both), /summary of: daily one.*summary of: daily two/);

    // a job on an unknown thread is logged and skipped; the worker goes on
    await producer.queues.send("articles", { prompt: "x", path: "elsewhere/t" });
    await producer.queues.send("articles", { prompt: "article four" });
    await threadNamed("article four");
    assert.match(lines.join("\n"), /the item for elsewhere\/t was refused: there is no thread/);
  } finally {
    await threads.close();
    await producer.dispose();
    await worker.stop();
    await agentRoom.dispose();
    await server.close();
  }
});
