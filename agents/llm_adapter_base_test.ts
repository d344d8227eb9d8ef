// The shared tool loop (LLMAdapterBase) through the ScriptedLLMAdapter: tool calls, bad calls,
// retries, steering, approvals and interrupts — what every provider adapter inherits.
import assert from "node:assert/strict";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import {
  type AgentEvent,
  AgentSessionContext,
  LLMError,
  ScriptedLLMAdapter,
  type ScriptedModel,
  type SessionItem,
} from "./mod.ts";

const math = new Toolkit({
  name: "math",
  tools: [
    new FunctionTool<{ a: number; b: number }>({
      name: "add",
      inputSchema: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
        additionalProperties: false,
      },
      run: (_ctx, { a, b }) => ({ sum: a + b }),
    }),
    new FunctionTool({
      name: "explode",
      inputSchema: { type: "object", properties: {} },
      run: () => {
        throw new Error("kaboom");
      },
    }),
  ],
});

async function respond(model: ScriptedModel, extra: Record<string, unknown> = {}) {
  const adapter = new ScriptedLLMAdapter(model, { maxRetries: 3 });
  const context = new AgentSessionContext();
  context.appendUserMessage("go");
  const events: AgentEvent[] = [];
  const response = await adapter.createResponse({
    context,
    caller: { id: "agent", attributes: {} },
    toolkits: [math],
    onEvent: (event) => events.push(event),
    ...extra,
  });
  return { response, context, events };
}

/** Calls `tool` with `args` in round 1, then answers with the last tool result's text. */
function callThenEcho(tool: string, args: unknown): ScriptedModel {
  return (context, { number }) => {
    if (number === 1) return { toolCalls: [{ toolkit: "math", tool, arguments: args }] };
    const result = context.items.findLast((item) => item.kind === "tool_result") as Extract<
      SessionItem,
      { kind: "tool_result" }
    >;
    return { text: result.output.map((part) => part.type === "text" ? part.text : "").join("") };
  };
}

Deno.test("tool loop: a tool call runs, its result goes back to the model, events are emitted", async () => {
  const { response, context, events } = await respond(callThenEcho("add", { a: 2, b: 3 }));
  assert.equal(response.text, '{"sum":5}');
  assert.deepEqual(context.items.map((i) => i.kind), [
    "user",
    "tool_call",
    "tool_result",
    "assistant",
  ]);
  const started = events.find((e) => e.type === "tool_call.started")!;
  assert.deepEqual(started.arguments, { a: 2, b: 3 });
  assert.equal(started.toolkit, "math");
  const ended = events.find((e) => e.type === "tool_call.ended")!;
  assert.deepEqual(ended.result, { type: "json", json: { sum: 5 } });
});

Deno.test("tool loop: malformed arguments, schema violations, unknown tools and throwing tools are told to the model", async () => {
  for (
    const [tool, args, expected] of [
      ["add", "{not json", /not valid JSON/],
      ["add", { a: "x" }, /does not match input_schema|must be number/],
      ["nope", {}, /no tool named nope/],
      ["explode", {}, /kaboom/],
    ] as const
  ) {
    const { response, events } = await respond(callThenEcho(tool, args));
    assert.match(response.text, expected);
    const ended = events.find((e) => e.type === "tool_call.ended")!;
    assert.match(String((ended.error as { message: string }).message), expected);
  }
});

Deno.test("tool loop: retryable errors are retried with a thread event; final ones end the response", async () => {
  let calls = 0;
  const { response, events } = await respond(() => {
    calls++;
    if (calls < 3) throw Object.assign(new Error("rate limited"), { status: 429 });
    return { text: "done" };
  });
  assert.equal(response.text, "done");
  const retries = events.filter((e) => e.type === "thread.event");
  assert.equal(retries.length, 2);
  assert.match(
    String((retries[1].event as { headline: string }).headline),
    /Retrying the LLM request \(retry 2\/3\)/,
  );

  await assert.rejects(
    respond(() => {
      throw Object.assign(new Error("bad request"), { status: 400 });
    }),
    (e) => e instanceof LLMError && e.status === 400 && /bad request/.test(e.message),
  );
  await assert.rejects(
    respond(() => {
      throw Object.assign(new Error("overloaded"), { status: 503 });
    }),
    (e) => e instanceof LLMError && /after 3 retries/.test(e.message),
  );
});

Deno.test("tool loop: steering adds user items between rounds; approvals gate tool calls", async () => {
  let steered = false;
  const { context } = await respond(
    (ctx, { number }) => number === 1 ? { text: "thinking" } : { text: `saw ${ctx.items.length}` },
    {
      steering: () => {
        if (steered) return Promise.resolve([]);
        steered = true;
        return Promise.resolve([{ kind: "user", text: "also this" }]);
      },
    },
  );
  assert.deepEqual(context.items.map((i) => i.kind), ["user", "assistant", "user", "assistant"]);

  const asked: string[] = [];
  const { response } = await respond(callThenEcho("add", { a: 1, b: 1 }), {
    requiresApproval: (_toolkit: string, tool: string) => tool === "add",
    approve: (request: { tool: string }) => {
      asked.push(request.tool);
      return Promise.resolve(false);
    },
  });
  assert.deepEqual(asked, ["add"]);
  assert.match(response.text, /not approved/);
});

Deno.test("tool loop: an interrupt stops a streaming response", async () => {
  const controller = new AbortController();
  const pending = respond(() => ({ text: "a b c d e f g h", delayMs: 50 }), {
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 80);
  await assert.rejects(pending, (e) => e instanceof LLMError && e.code === "interrupted");
});
