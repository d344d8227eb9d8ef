// The Anthropic adapter with the real @anthropic-ai/sdk client against the fake Messages API on
// loopback: streaming, the tool loop, strict tools, pause_turn, retries, timeouts, interrupts,
// usage, and the request bodies that reached the server.
import assert from "node:assert/strict";
import { FileContent, type JsonObject } from "@meshagent/api";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import {
  type AgentEvent,
  AgentSessionContext,
  LLMError,
  type LLMResponse,
  type LLMResponseRequest,
} from "@meshagent/agents";
import {
  ANTHROPIC_STEERING_MARKER,
  AnthropicMessagesAdapter,
  type AnthropicMessagesAdapterOptions,
} from "./mod.ts";
import { type FakeAnthropicScript, FakeAnthropicServer } from "./testing.ts";

const addRuns: JsonObject[] = [];
const math = new Toolkit({
  name: "math",
  tools: [
    new FunctionTool<{ a: number; b: number }>({
      name: "add",
      description: "Adds two numbers",
      inputSchema: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number", minimum: 0 } },
        required: ["a", "b"],
      },
      run: (_ctx, args) => {
        addRuns.push(args);
        return { sum: args.a + args.b };
      },
    }),
    new FunctionTool({
      name: "explode",
      inputSchema: { type: "object", properties: {} },
      run: () => {
        throw new Error("kaboom");
      },
    }),
    new FunctionTool({
      name: "picture",
      inputSchema: { type: "object", properties: {} },
      run: () => new FileContent(new Uint8Array([137, 80, 78, 71]), "p.png", "image/png"),
    }),
    new FunctionTool({
      name: "report",
      inputSchema: { type: "object", properties: {} },
      run: () => new FileContent(new TextEncoder().encode("%PDF-1.4"), "r.pdf", "application/pdf"),
    }),
    new FunctionTool({
      name: "loose_only",
      strict: false,
      inputSchema: { type: "object", properties: {} },
      run: () => {
        throw new Error("always fails");
      },
    }),
  ],
});

interface Run {
  server: FakeAnthropicServer;
  adapter: AnthropicMessagesAdapter;
  context: AgentSessionContext;
  events: AgentEvent[];
  /** The request bodies the server received. */
  bodies: JsonObject[];
}

/** Starts a fake server with `script`, an adapter pointed at it, and a context saying "go". */
async function setup(
  script: FakeAnthropicScript,
  options: AnthropicMessagesAdapterOptions = {},
): Promise<Run & AsyncDisposable> {
  const server = await FakeAnthropicServer.start(script);
  const adapter = new AnthropicMessagesAdapter({
    baseURL: server.url,
    apiKey: "test-key",
    model: "claude-test",
    maxRetries: 3,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 20,
    ...options,
  });
  const context = adapter.createSession(["Be brief."]);
  context.appendUserMessage("go");
  return {
    server,
    adapter,
    context,
    events: [],
    get bodies() {
      return server.requests.map((r) => r.body);
    },
    [Symbol.asyncDispose]: () => server.close(),
  };
}

function respond(run: Run, extra: Partial<LLMResponseRequest> = {}): Promise<LLMResponse> {
  return run.adapter.createResponse({
    context: run.context,
    caller: { id: "agent", attributes: {} },
    toolkits: [math],
    onEvent: (event) => run.events.push(event),
    ...extra,
  });
}

type Message = { role: string; content: JsonObject[] };
const messages = (body: JsonObject) => body.messages as unknown as Message[];
const tool = (body: JsonObject, name: string) =>
  (body.tools as JsonObject[]).find((t) => t.name === name)!;

Deno.test("anthropic: text streams as text_content events; the request carries system, model and max_tokens", async () => {
  await using run = await setup([{
    content: [{ type: "text", text: "Hello there, Ada", chunks: ["Hello ", "there, ", "Ada"] }],
    usage: { input_tokens: 12, output_tokens: 3 },
  }]);
  const response = await respond(run, { toolkits: [] });
  assert.equal(response.text, "Hello there, Ada");
  assert.equal(response.model, "claude-test");
  assert.deepEqual(
    run.events.map((e) => [e.type, e.text]),
    [
      ["text_content.started", undefined],
      ["text_content.delta", "Hello "],
      ["text_content.delta", "there, "],
      ["text_content.delta", "Ada"],
      ["text_content.ended", "Hello there, Ada"],
    ],
  );
  assert.equal(run.events[0].item_id, "msg_fake_0:0");
  const [request] = run.server.requests;
  assert.equal(request.path, "/v1/messages");
  assert.equal(request.headers.authorization, "Bearer test-key");
  const body = request.body;
  assert.equal(body.model, "claude-test");
  assert.equal(body.stream, true);
  assert.equal(body.max_tokens, 8192);
  assert.match(String(body.system), /^Be brief\.\n\nIf the transcript contains .*TURN INTERRUPTED/);
  assert.equal(body.tools, undefined);
  assert.deepEqual(body.messages, [{ role: "user", content: [{ type: "text", text: "go" }] }]);
  assert.deepEqual(run.context.items.at(-1), {
    kind: "assistant",
    text: "Hello there, Ada",
    itemId: "msg_fake_0:0",
  });
  assert.deepEqual(response.usage, { input_tokens: 12, output_tokens: 3, cached_input_tokens: 0 });
});

Deno.test("anthropic: a tool round trip with a real toolkit; tool_result goes back in the next user message", async () => {
  addRuns.length = 0;
  await using run = await setup([
    {
      content: [
        { type: "text", text: "Let me add." },
        { type: "tool_use", id: "toolu_1", name: "add", input: { a: 2, b: 3 }, chunks: 3 },
      ],
    },
    { text: "It is 5." },
  ]);
  const response = await respond(run);
  assert.equal(response.text, "It is 5.");
  assert.deepEqual(addRuns, [{ a: 2, b: 3 }]);
  const pending = run.events.find((e) => e.type === "tool_call.pending")!;
  assert.deepEqual(pending, {
    type: "tool_call.pending",
    item_id: "toolu_1",
    call_id: "toolu_1",
    namespace: "meshagent",
    toolkit: "math",
    tool: "add",
  });
  const deltas = run.events.filter((e) => e.type === "tool_call.arguments_delta");
  assert.equal(deltas.map((e) => e.delta).join(""), '{"a":2,"b":3}');
  assert(deltas.length >= 2, "the arguments stream in pieces");
  const ended = run.events.find((e) => e.type === "tool_call.ended")!;
  assert.deepEqual(ended.result, { type: "json", json: { sum: 5 } });

  const first = run.bodies[0];
  assert.deepEqual(tool(first, "add"), {
    name: "add",
    description: "Adds two numbers",
    input_schema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number", minimum: 0 } },
      required: ["a", "b"],
    },
    strict: false,
  });
  assert.deepEqual((first.tools as JsonObject[]).map((t) => t.name), [
    "add",
    "explode",
    "picture",
    "report",
    "loose_only",
  ]);
  assert.deepEqual(messages(run.bodies[1]), [
    { role: "user", content: [{ type: "text", text: "go" }] },
    {
      role: "assistant",
      content: [
        { type: "text", text: "Let me add." },
        { type: "tool_use", id: "toolu_1", name: "add", input: { a: 2, b: 3 } },
      ],
    },
    {
      role: "user",
      content: [{
        type: "tool_result",
        tool_use_id: "toolu_1",
        content: [{ type: "text", text: '{"sum":5}' }],
      }],
    },
  ]);
});

Deno.test("anthropic: parallel tool_use blocks: one assistant message with both calls, one user message with both results", async () => {
  await using run = await setup([
    {
      content: [
        { type: "tool_use", id: "toolu_a", name: "add", input: { a: 1, b: 1 } },
        { type: "tool_use", id: "toolu_b", name: "explode", input: {} },
        { type: "tool_use", id: "toolu_c", name: "picture", input: {} },
        { type: "tool_use", id: "toolu_d", name: "report", input: {} },
      ],
    },
    { text: "done" },
  ]);
  await respond(run);
  const [, assistant, user] = messages(run.bodies[1]);
  assert.deepEqual(assistant.content.map((b) => b.id), [
    "toolu_a",
    "toolu_b",
    "toolu_c",
    "toolu_d",
  ]);
  assert.equal(messages(run.bodies[1]).length, 3);
  assert.deepEqual(user.content, [
    { type: "tool_result", tool_use_id: "toolu_a", content: [{ type: "text", text: '{"sum":2}' }] },
    {
      type: "tool_result",
      tool_use_id: "toolu_b",
      content: [{ type: "text", text: "error: kaboom" }],
      is_error: true,
    },
    {
      type: "tool_result",
      tool_use_id: "toolu_c",
      content: [{
        type: "image",
        source: { type: "base64", media_type: "image/png", data: "iVBORw==" },
      }],
    },
    {
      type: "tool_result",
      tool_use_id: "toolu_d",
      content: [{
        type: "document",
        title: "r.pdf",
        source: { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQ=" },
      }],
    },
  ]);
});

Deno.test("anthropic: malformed tool input JSON is told to the model as an error result; the call is replayed with {}", async () => {
  addRuns.length = 0;
  await using run = await setup([
    { content: [{ type: "tool_use", id: "toolu_bad", name: "add", inputJson: '{"a": 1, "b":' }] },
    { text: "sorry" },
  ]);
  const response = await respond(run);
  assert.equal(response.text, "sorry");
  assert.deepEqual(addRuns, [], "the tool did not run");
  const [, assistant, user] = messages(run.bodies[1]);
  assert.deepEqual(assistant.content, [{
    type: "tool_use",
    id: "toolu_bad",
    name: "add",
    input: {},
  }]);
  assert.equal(user.content[0].is_error, true);
  assert.match(JSON.stringify(user.content[0].content), /not valid JSON/);
});

Deno.test("anthropic: adaptive mode makes a tool strict after it failed once, for later rounds and responses", async () => {
  await using run = await setup([
    { content: [{ type: "tool_use", id: "toolu_1", name: "add", input: { a: "x" } }] },
    { content: [{ type: "tool_use", id: "toolu_2", name: "loose_only", input: {} }] },
    { text: "ok" },
    { text: "again" },
  ]);
  await respond(run);
  const strictOf = (n: number) =>
    Object.fromEntries((run.bodies[n].tools as JsonObject[]).map((t) => [t.name, t.strict]));
  assert.deepEqual(strictOf(0), {
    add: false,
    explode: false,
    picture: false,
    report: false,
    loose_only: false,
  });
  assert.equal(strictOf(1).add, true, "add failed its schema in round 1");
  assert.equal(strictOf(1).explode, false);
  // The strict schema went through the SDK's transform: no extra properties, and keywords the
  // strict grammar does not take moved into the description.
  assert.deepEqual(tool(run.bodies[1], "add").input_schema, {
    type: "object",
    properties: { a: { type: "number" }, b: { type: "number", description: "{minimum: 0}" } },
    additionalProperties: false,
    required: ["a", "b"],
  });
  assert.equal(strictOf(2).loose_only, false, "a tool that says strict: false stays loose");
  run.context.appendUserMessage("more");
  await respond(run);
  assert.equal(strictOf(3).add, true, "the adapter remembers across responses");
});

Deno.test("anthropic: loose, strict and explicit tool calling modes", async () => {
  const strictTool = new Toolkit({
    name: "s",
    tools: [
      new FunctionTool({
        name: "marked",
        strict: true,
        inputSchema: { type: "object", properties: {} },
        run: () => "ok",
      }),
      new FunctionTool({
        name: "plain",
        inputSchema: { type: "object", properties: {} },
        run: () => "ok",
      }),
    ],
  });
  for (
    const [mode, expected] of [
      ["loose", { marked: false, plain: false }],
      ["strict", { marked: true, plain: true }],
      ["explicit", { marked: true, plain: false }],
      ["adaptive", { marked: false, plain: false }],
    ] as const
  ) {
    await using run = await setup([{ text: "ok" }], { toolCallingMode: mode });
    await respond(run, { toolkits: [strictTool] });
    assert.deepEqual(
      Object.fromEntries((run.bodies[0].tools as JsonObject[]).map((t) => [t.name, t.strict])),
      expected,
      mode,
    );
  }
});

Deno.test("anthropic: a grammar-too-large 400 for strict tools turns strict off and retries at once", async () => {
  await using run = await setup([
    { content: [{ type: "tool_use", id: "toolu_1", name: "explode", input: {} }] },
    {
      error: {
        status: 400,
        message: "The compiled grammar is too large; reduce the number of strict tools",
      },
    },
    { text: "fine" },
  ]);
  const response = await respond(run);
  assert.equal(response.text, "fine");
  assert.equal(tool(run.bodies[1], "explode").strict, true);
  assert.equal(tool(run.bodies[2], "explode").strict, false);
  assert.equal(run.events.filter((e) => e.type === "thread.event").length, 0, "not a retry");
});

Deno.test("anthropic: pause_turn continues the turn with the paused content sent back as it came", async () => {
  const serverTool = {
    type: "server_tool_use",
    id: "srvtoolu_1",
    name: "web_search",
    input: { query: "deno" },
  };
  await using run = await setup([
    {
      content: [{ type: "text", text: "Searching." }, { type: "raw", block: serverTool }],
      stopReason: "pause_turn",
    },
    { text: "Found it." },
  ], { messageOptions: { tools: [{ type: "web_search_20250305", name: "web_search" }] } });
  const response = await respond(run, { toolkits: [] });
  assert.equal(response.text, "Found it.");
  assert.equal(run.server.requests.length, 2);
  assert.deepEqual(run.bodies[1].tools, [{ type: "web_search_20250305", name: "web_search" }]);
  assert.deepEqual(messages(run.bodies[1]).at(-1), {
    role: "assistant",
    content: [{ type: "text", text: "Searching." }, serverTool],
  });

  await using paused = await setup(() => ({ text: "…", stopReason: "pause_turn" }));
  await assert.rejects(
    respond(paused, { toolkits: [] }),
    (e) => e instanceof LLMError && e.code === "too_many_pauses",
  );
  assert.equal(paused.server.requests.length, 6, "one request and five continuations");
});

Deno.test("anthropic: 429 with retry-after is retried after a thread event; then the answer streams", async () => {
  await using run = await setup([
    { error: { status: 429, headers: { "retry-after-ms": "30" } } },
    { text: "made it" },
  ], { retryBaseDelayMs: 5000, retryMaxDelayMs: 10_000 });
  const started = performance.now();
  const response = await respond(run, { toolkits: [] });
  assert.equal(response.text, "made it");
  // retry-after-ms (30 ms) was honoured instead of the 5 s backoff.
  assert(performance.now() - started < 4000);
  const retry = run.events.find((e) => e.type === "thread.event")!;
  assert.deepEqual((retry.event as JsonObject).headline, "Retrying the LLM request (retry 1/3)");
  assert.match(String((retry.event as JsonObject).details), /Anthropic 429 rate_limit_error/);
  assert.equal(run.server.requests.length, 2);
});

Deno.test("anthropic: 529 overloaded, 500, an overloaded stream error and a cut stream are retried; 400 and 401 are not", async () => {
  await using run = await setup([
    { error: { status: 529 } },
    { error: { status: 500 } },
    { text: "never streamed", streamErrorAfterEvents: 2 },
    // The connection drops after message_start: no message_stop.
    { events: [{ event: "message_start", data: { type: "message_start", message: { id: "m" } } }] },
    { text: "fifth time lucky" },
  ], { maxRetries: 4 });
  assert.equal((await respond(run, { toolkits: [] })).text, "fifth time lucky");
  const retries = run.events.filter((e) => e.type === "thread.event");
  assert.equal(retries.length, 4);
  assert.match(String((retries[3].event as JsonObject).details), /ended before message_stop/);
  assert.match(String((retries[2].event as JsonObject).details), /stream error overloaded_error/);

  for (const status of [400, 401]) {
    await using bad = await setup([{ error: { status, message: "nope" } }, { text: "unused" }]);
    await assert.rejects(
      respond(bad, { toolkits: [] }),
      (e) => e instanceof LLMError && e.status === status && /nope/.test(e.message),
    );
    assert.equal(bad.server.requests.length, 1, `${status} is not retried`);
  }
});

Deno.test("anthropic: a 429 storm exhausts the retries and ends with rate_limited", async () => {
  await using run = await setup(
    () => ({ error: { status: 429, headers: { "retry-after": "0" } } }),
    {
      maxRetries: 2,
    },
  );
  await assert.rejects(
    respond(run, { toolkits: [] }),
    (e) =>
      e instanceof LLMError && e.code === "rate_limited" && e.status === 429 &&
      /after 2 retries/.test(e.message),
  );
  assert.equal(run.server.requests.length, 3);
});

Deno.test("anthropic: no response headers within timeoutMs, and a stalled stream, are timeouts", async () => {
  await using hung = await setup([{ hang: true }, { text: "late but fine" }], { timeoutMs: 150 });
  assert.equal((await respond(hung, { toolkits: [] })).text, "late but fine");
  assert.match(
    String((hung.events.find((e) => e.type === "thread.event")!.event as JsonObject).details),
    /did not answer in time/,
  );

  // Stalls before any output are retried; a stall after output has streamed is final.
  await using stalled = await setup(() => ({ text: "a b c", stallAfterEvents: 4 }), {
    streamIdleTimeoutMs: 150,
    maxRetries: 1,
  });
  await assert.rejects(
    respond(stalled, { toolkits: [] }),
    (e) => e instanceof LLMError && /sent nothing for 150 ms/.test(e.message),
  );
  assert.equal(stalled.server.requests.length, 1, "text had streamed: not retried");
  await stalled.server.disconnected(0);
});

Deno.test("anthropic: an interrupt mid-stream aborts the request; the server sees the disconnect", async () => {
  await using run = await setup([{ text: "one two three four five six", delayMs: 40 }]);
  const controller = new AbortController();
  const pending = respond(run, { toolkits: [], signal: controller.signal });
  await run.server.received(1);
  while (!run.events.some((e) => e.type === "text_content.delta")) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  controller.abort();
  await assert.rejects(pending, (e) => e instanceof LLMError && e.code === "interrupted");
  await run.server.disconnected(0);
  assert.equal(run.context.items.length, 1, "nothing of the interrupted round was kept");
});

Deno.test("anthropic: usage sums rounds with cache and thinking tokens; the raw usage is kept in metadata", async () => {
  await using run = await setup([
    {
      content: [{ type: "tool_use", name: "add", input: { a: 1, b: 2 } }],
      usage: {
        input_tokens: 100,
        cache_creation_input_tokens: 50,
        cache_read_input_tokens: 0,
        output_tokens: 10,
      },
    },
    {
      text: "3",
      usage: {
        input_tokens: 20,
        cache_read_input_tokens: 150,
        output_tokens: 5,
        thinking_tokens: 2,
      },
    },
  ]);
  const response = await respond(run);
  assert.deepEqual(response.usage, {
    input_tokens: 320,
    output_tokens: 15,
    cached_input_tokens: 150,
    reasoning_tokens: 2,
  });
  assert.deepEqual(run.context.usage, response.usage);
  assert.equal(
    (run.context.metadata.last_response_usage as JsonObject).cache_read_input_tokens,
    150,
  );
  assert.equal(run.context.metadata.last_response_model, "claude-test");
});

Deno.test("anthropic: thinking streams as reasoning; signed blocks go back to Anthropic, others are left out", async () => {
  await using run = await setup([
    {
      content: [
        { type: "thinking", thinking: "I should add.", signature: "sig-1" },
        { type: "redacted_thinking", data: "opaque" },
        { type: "tool_use", id: "toolu_1", name: "add", input: { a: 1, b: 1 } },
      ],
    },
    { text: "2" },
  ], { messageOptions: { thinking: { type: "enabled", budget_tokens: 1024 } } });
  run.context.append({ kind: "reasoning", text: "from another provider", provider: "openai" });
  run.context.append({ kind: "reasoning", text: "restored without signature" });
  await respond(run);
  assert.deepEqual(
    run.events.filter((e) => e.type.startsWith("reasoning_content")).map((e) => [e.type, e.text]),
    [
      ["reasoning_content.started", undefined],
      ["reasoning_content.delta", "I "],
      ["reasoning_content.delta", "should "],
      ["reasoning_content.delta", "add."],
      ["reasoning_content.ended", "I should add."],
    ],
  );
  const reasoning = run.context.items.find((i) =>
    i.kind === "reasoning" && i.provider === "anthropic"
  );
  assert.deepEqual(reasoning, {
    kind: "reasoning",
    text: "I should add.",
    itemId: "msg_fake_0:0",
    provider: "anthropic",
    state: { type: "thinking", signature: "sig-1" },
  });
  const body = run.bodies[1];
  assert.deepEqual(body.thinking, { type: "enabled", budget_tokens: 1024 });
  assert.deepEqual(messages(body)[1], {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "I should add.", signature: "sig-1" },
      { type: "redacted_thinking", data: "opaque" },
      { type: "tool_use", id: "toolu_1", name: "add", input: { a: 1, b: 1 } },
    ],
  });
  assert.deepEqual(messages(run.bodies[0]).length, 1, "unreplayable reasoning was left out");
});

Deno.test("anthropic: steering is marked TURN INTERRUPTED; consecutive user items are merged", async () => {
  await using run = await setup([{ text: "Working on it." }, { text: "Switched." }]);
  run.context.appendUserMessage("and also this");
  let steered = false;
  await respond(run, {
    toolkits: [],
    steering: () => {
      if (steered) return Promise.resolve([]);
      steered = true;
      return Promise.resolve([{ kind: "user", text: "stop, do that instead" }]);
    },
  });
  assert.deepEqual(messages(run.bodies[0]), [
    {
      role: "user",
      content: [{ type: "text", text: "go" }, { type: "text", text: "and also this" }],
    },
  ]);
  assert.deepEqual(messages(run.bodies[1]).slice(1), [
    {
      role: "assistant",
      content: [{ type: "text", text: "Working on it." }, {
        type: "text",
        text: ANTHROPIC_STEERING_MARKER,
      }],
    },
    { role: "user", content: [{ type: "text", text: "stop, do that instead" }] },
  ]);
});

Deno.test("anthropic: an output schema becomes output_config.format; tool_choice maps to the API's", async () => {
  await using run = await setup([
    { content: [{ type: "tool_use", id: "toolu_1", name: "add", input: { a: 1, b: 1 } }] },
    { text: '{"answer":2}' },
  ]);
  const response = await respond(run, {
    outputSchema: {
      type: "object",
      properties: { answer: { type: "integer" } },
      required: ["answer"],
    },
    toolChoice: { toolkit: "math", tool: "add" },
  });
  assert.deepEqual(response.json, { answer: 2 });
  assert.deepEqual(run.bodies[0].output_config, {
    format: {
      type: "json_schema",
      schema: {
        type: "object",
        properties: { answer: { type: "integer" } },
        additionalProperties: false,
        required: ["answer"],
      },
    },
  });
  assert.deepEqual(run.bodies[0].tool_choice, { type: "tool", name: "add" });
  assert.equal(run.bodies[1].tool_choice, undefined, "a forced call applies to the first round");

  for (
    const [choice, expected] of [
      ["required", { type: "any" }],
      ["none", { type: "none" }],
      ["auto", undefined],
    ] as const
  ) {
    await using one = await setup([{ text: "x" }]);
    await respond(one, { toolChoice: choice });
    assert.deepEqual(one.bodies[0].tool_choice, expected, choice);
  }
  await using missing = await setup([{ text: "x" }]);
  await assert.rejects(
    respond(missing, { toolChoice: { tool: "nope" } }),
    (e) => e instanceof LLMError && /tool_choice names nope/.test(e.message),
  );
});

Deno.test("anthropic: max_tokens and refusal stops end the response with an error that says what to do", async () => {
  await using run = await setup([{ text: "cut", stopReason: "max_tokens" }], { maxTokens: 50 });
  await assert.rejects(
    respond(run, { toolkits: [] }),
    (e) => e instanceof LLMError && e.code === "max_tokens" && /raise maxTokens/.test(e.message),
  );
  assert.equal(run.bodies[0].max_tokens, 50);
  await using refused = await setup([{ text: "", stopReason: "refusal" }]);
  await assert.rejects(
    respond(refused, { toolkits: [] }),
    (e) => e instanceof LLMError && e.code === "refusal",
  );
});

Deno.test("anthropic: configuration from options and the environment; a clear error without a key", async () => {
  await using server = await FakeAnthropicServer.start(() => ({ text: "hi" }));
  const via = (env: Record<string, string>, options: AnthropicMessagesAdapterOptions = {}) =>
    new AnthropicMessagesAdapter({ env, ...options });
  // The MeshAgent proxy: MESHAGENT_API_URL + /anthropic, MESHAGENT_TOKEN as the key.
  const proxied = via({ MESHAGENT_API_URL: `${server.url}/`, MESHAGENT_TOKEN: "mesh-token" });
  assert.equal(proxied.baseURL, `${server.url}/anthropic`);
  const context = new AgentSessionContext();
  context.appendUserMessage("hi");
  await proxied.createResponse({
    context,
    caller: { id: "agent", attributes: {} },
    onBehalfOf: { id: "p", name: "ada", attributes: {} },
    toolkits: [],
  });
  assert.equal(server.requests[0].path, "/anthropic/v1/messages");
  assert.equal(server.requests[0].headers.authorization, "Bearer mesh-token");
  assert.equal(server.requests[0].headers["meshagent-on-behalf-of"], "ada");

  const direct = via({
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: "sk-ant",
    MESHAGENT_TOKEN: "ignored",
    ANTHROPIC_MODEL: "claude-env",
    ANTHROPIC_MAX_TOKENS: "777",
  });
  assert.equal(direct.baseURL, server.url);
  assert.equal(direct.defaultModel(), "claude-env");
  assert.equal(direct.maxTokensFor("claude-env"), 777);
  await direct.createResponse({ context, caller: { id: "agent", attributes: {} }, toolkits: [] });
  assert.equal(server.requests[1].headers.authorization, "Bearer sk-ant");
  assert.equal(server.requests[1].body.max_tokens, 777);

  const explicit = via({ ANTHROPIC_BASE_URL: "http://elsewhere" }, {
    baseURL: server.url,
    model: "m",
  });
  assert.equal(explicit.baseURL, server.url);
  assert.equal(explicit.defaultModel(), "m");
  assert.equal(via({}).defaultModel(), "claude-sonnet-5-5");
  assert.equal(via({}).baseURL, "https://api.meshagent.com/anthropic");
  assert.equal(via({}).maxTokensFor("claude-sonnet-4-6"), 64_000);
  assert.equal(via({}).maxTokensFor("claude-opus-4-6"), 128_000);
  assert.throws(() => via({ ANTHROPIC_MAX_TOKENS: "lots" }), /ANTHROPIC_MAX_TOKENS must be/);

  const keyless = via({ ANTHROPIC_BASE_URL: server.url });
  await assert.rejects(
    keyless.createResponse({ context, caller: { id: "agent", attributes: {} }, toolkits: [] }),
    (e) =>
      e instanceof LLMError && e.code === "not_configured" &&
      /ANTHROPIC_API_KEY/.test(e.message) && /MESHAGENT_TOKEN/.test(e.message),
  );
  assert.equal(server.requests.length, 2, "no request without a key");
});
