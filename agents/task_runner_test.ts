// TaskRunner and LLMTaskRunner hosted in a real room, called by another participant.
import assert from "node:assert/strict";
import { BinaryContent, JsonContent, type JsonObject, type RoomError } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";
import { LLMTaskRunner, ScriptedLLMAdapter, type TaskContext, TaskRunner } from "./mod.ts";

class Adder extends TaskRunner {
  seen: { caller?: string; attachment?: number }[] = [];

  constructor() {
    super({
      name: "adder",
      title: "Adder",
      description: "adds two numbers",
      inputSchema: {
        type: "object",
        required: ["a", "b"],
        additionalProperties: false,
        properties: { a: { type: "number" }, b: { type: "number" } },
      },
      outputSchema: {
        type: "object",
        required: ["sum"],
        properties: { sum: { type: "number" }, bytes: { type: "integer" } },
      },
      annotations: { "meshagent.agent.type": "TaskRunner" },
    });
  }

  ask(context: TaskContext, args: JsonObject, attachment?: Uint8Array) {
    this.seen.push({ caller: context.caller.id, attachment: attachment?.length });
    const a = args.a as number;
    if (a === 13) return { sum: "unlucky" }; // breaks the output schema
    return { sum: a + (args.b as number), ...(attachment ? { bytes: attachment.length } : {}) };
  }
}

function json(content: unknown): unknown {
  assert.ok(content instanceof JsonContent, `a JSON result, got ${JSON.stringify(content)}`);
  return content.json;
}

Deno.test("task runner: run_<name>_task checks its input and output against the schemas; binary calls carry an attachment", async () => {
  const server = await startTestServer();
  const adder = new Adder();
  const agentRoom = await server.connect("tasks", "adder");
  await adder.start({ room: agentRoom });
  const caller = await server.connect("tasks", "ada");
  const call = (args: JsonObject) =>
    caller.agents.invokeTool({ toolkit: "adder", tool: "run_adder_task", arguments: args });
  try {
    const listed = (await caller.agents.listToolkits()).find((t) => t.name === "adder");
    assert.deepEqual(listed?.tools.map((t) => t.name), ["run_adder_task"]);
    assert.equal(listed?.tools[0].title, "Run Adder Task");

    assert.deepEqual(json(await call({ a: 2, b: 3 })), { sum: 5 });
    assert.equal(adder.seen[0].caller, caller.localParticipant!.id);

    await assert.rejects(call({ a: "two", b: 3 }), (e: RoomError) => {
      assert.equal(e.code, 1002);
      assert.match(e.message, /input does not match input_schema: \/a must be number/);
      return true;
    });
    await assert.rejects(call({ a: 2 }), (e: RoomError) => {
      assert.equal(e.code, 1002);
      assert.match(e.message, /must have required property 'b'/);
      return true;
    });
    await assert.rejects(call({ a: 1, b: 2, c: 3 }), /must NOT have additional properties \('c'\)/);
    // an answer that breaks the output schema fails the call, naming the field
    await assert.rejects(
      call({ a: 13, b: 0 }),
      /output does not match output_schema: \/sum must be number/,
    );
    assert.equal(adder.seen.length, 2, "ask ran only for valid input");

    // a binary call: headers are the arguments, data the attachment
    const binary = await caller.invoke({
      toolkit: "adder",
      tool: "run_adder_task",
      input: new BinaryContent(new Uint8Array([1, 2, 3, 4]), { a: 1, b: 1 }),
    });
    assert.deepEqual(json(binary), { sum: 2, bytes: 4 });
    await assert.rejects(
      caller.invoke({
        toolkit: "adder",
        tool: "run_adder_task",
        input: new BinaryContent(new Uint8Array([1]), { a: "x", b: 1 }),
      }),
      (e: RoomError) => e.code === 1002 && /\/a must be number/.test(e.message),
    );

    const description = adder.toJson();
    assert.deepEqual(Object.keys(description).sort(), [
      "annotations",
      "description",
      "input_schema",
      "labels",
      "name",
      "output_schema",
      "requires",
      "supports_tools",
      "title",
    ]);
    assert.equal(description.supports_tools, false);
    assert.deepEqual(description.input_schema.required, ["a", "b"]);
  } finally {
    await caller.dispose();
    await adder.stop();
    await agentRoom.dispose();
    await server.close();
  }
});

Deno.test("LLM task runner: the model's structured answer is the result; a non-JSON answer fails the call", async () => {
  const server = await startTestServer();
  const adapter = new ScriptedLLMAdapter((context) => {
    const prompt = (context.items.at(-1) as { text: string }).text;
    if (prompt === "break") return { text: "not json" };
    if (prompt === "wrong") return { text: '{"summary": 7}' };
    return { text: JSON.stringify({ summary: prompt.toUpperCase() }) };
  });
  const runner = new LLMTaskRunner({
    name: "summarizer",
    llmAdapter: adapter,
    rules: ["answer in JSON"],
    outputSchema: {
      type: "object",
      required: ["summary"],
      additionalProperties: false,
      properties: { summary: { type: "string" } },
    },
  });
  const agentRoom = await server.connect("llm", "summarizer");
  await runner.start({ room: agentRoom });
  const caller = await server.connect("llm", "ada");
  const call = (args: JsonObject) =>
    caller.agents.invokeTool({
      toolkit: "summarizer",
      tool: "run_summarizer_task",
      arguments: args,
    });
  try {
    assert.deepEqual(json(await call({ prompt: "hello" })), { summary: "HELLO" });
    await assert.rejects(call({ prompt: "break" }), /not the JSON its output schema asks for/);
    await assert.rejects(call({ prompt: "wrong" }), /\/summary must be string/);
    await assert.rejects(call({}), (e: RoomError) => e.code === 1002);
  } finally {
    await caller.dispose();
    await runner.stop();
    await agentRoom.dispose();
    await server.close();
  }
});
