// OpenAICompletionsAdapter with the real `openai` client against FakeOpenAIServer's Chat
// Completions endpoint (`chat.completion.chunk` SSE and `[DONE]`).
import assert from "node:assert/strict";
import type { JsonObject } from "@meshagent/api";
import { LLMError } from "@meshagent/agents";
import { OpenAICompletionsAdapter, type OpenAICompletionsAdapterOptions } from "./mod.ts";
import { FakeOpenAIServer, type FakeOpenAIServerOptions } from "./testing.ts";
import { eventTypes, noEnv, run, toolCalls, toolkits } from "./_test_helpers.ts";

async function setup(
  replies: FakeOpenAIServerOptions["replies"],
  options: OpenAICompletionsAdapterOptions = {},
) {
  const server = await FakeOpenAIServer.start({ replies });
  const adapter = new OpenAICompletionsAdapter({
    baseURL: server.baseURL,
    model: "llama3.2",
    env: noEnv,
    maxRetries: 3,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 20,
    ...options,
  });
  return { server, adapter };
}

const messages = (server: FakeOpenAIServer, n: number) =>
  server.requests[n].body.messages as JsonObject[];

Deno.test("completions: text streams; the request has the rules as system, the history, usage requested", async () => {
  const { server, adapter } = await setup([{
    text: ["po", "ng"],
    usage: { input_tokens: 7, output_tokens: 2 },
  }]);
  await using _ = server;
  const { response, events } = await run(adapter, {}, [
    { kind: "user", text: "earlier" },
    { kind: "assistant", text: "noted" },
    { kind: "user", text: "ping" },
  ]);
  assert.equal(response?.text, "pong");
  assert.deepEqual(response?.usage, {
    input_tokens: 7,
    output_tokens: 2,
    cached_input_tokens: 0,
    reasoning_tokens: 0,
  });
  assert.deepEqual(eventTypes(events), [
    "text_content.started",
    "text_content.delta",
    "text_content.ended",
  ]);
  const [request] = server.requests;
  assert.equal(request.api, "chat.completions");
  // A loopback server needs no key: a placeholder is sent.
  assert.equal(request.headers.authorization, "Bearer unused");
  assert.match(request.headers["user-agent"], /^meshagent-deno\//);
  assert.equal(request.body.model, "llama3.2");
  assert.equal(request.body.stream, true);
  assert.deepEqual(request.body.stream_options, { include_usage: true });
  assert.deepEqual(request.body.messages, [
    { role: "system", content: "Be brief.\n\nUse tools." },
    { role: "user", content: "earlier" },
    { role: "assistant", content: "noted" },
    { role: "user", content: "ping" },
  ]);
});

Deno.test("completions: the model comes from the option or OPENAI_MODEL; neither is a clear error", () => {
  assert.throws(
    () => new OpenAICompletionsAdapter({ env: noEnv, baseURL: "http://localhost:11434/v1" }),
    (e) => e instanceof LLMError && e.code === "no_model" && /OPENAI_MODEL/.test(e.message),
  );
  const env: Record<string, string> = {
    OPENAI_MODEL: "qwen3",
    OPENAI_BASE_URL: "http://localhost:11434/v1",
  };
  const adapter = new OpenAICompletionsAdapter({ env: (name) => env[name] });
  assert.equal(adapter.defaultModel(), "qwen3");
  assert.equal(adapter.config.baseURL, "http://localhost:11434/v1");
  assert.equal(adapter.provider, "openai-completions");
});

Deno.test("completions: a tool call round trip — flat tools, the call runs, a tool message goes back", async () => {
  const { server, adapter } = await setup([
    {
      text: "Let me add.",
      toolCalls: [{ name: "mul", arguments: { a: 6, b: 7 }, callId: "call_a" }],
    },
    { text: "42" },
  ]);
  await using _ = server;
  toolCalls.length = 0;
  const { response, events } = await run(adapter, { toolkits: toolkits() });
  assert.equal(response?.text, "42");
  assert.deepEqual(toolCalls, [{ name: "math.mul", args: { a: 6, b: 7 } }]);
  assert(
    events.some((e) => e.type === "tool_call.pending" && e.toolkit === "math" && e.tool === "mul"),
  );
  const tools = server.requests[0].body.tools as JsonObject[];
  assert.deepEqual(tools.map((t) => (t.function as JsonObject).name), [
    "math__add",
    "mul",
    "pixel",
    "calc_v2__add",
  ]);
  assert.deepEqual(tools[1], {
    type: "function",
    function: {
      name: "mul",
      parameters: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
        additionalProperties: false,
      },
      strict: true,
    },
  });
  assert.deepEqual(messages(server, 1).slice(2), [
    {
      role: "assistant",
      content: "Let me add.",
      tool_calls: [{
        id: "call_a",
        type: "function",
        function: { name: "mul", arguments: '{"a":6,"b":7}' },
      }],
    },
    { role: "tool", tool_call_id: "call_a", content: '{"product":42}' },
  ]);
});

Deno.test("completions: two streamed tool calls are joined by index and both run; descriptions on request", async () => {
  const { server, adapter } = await setup([
    {
      toolCalls: [
        { name: "math__add", arguments: { a: 1, b: 2 }, callId: "x1" },
        { name: "calc_v2__add", arguments: { a: 9, b: 4 }, callId: "x2" },
      ],
      argumentChunks: 4,
    },
    { text: "3 and 5" },
  ], { toolDescriptions: true, strictTools: false });
  await using _ = server;
  toolCalls.length = 0;
  const { response, events } = await run(adapter, { toolkits: toolkits() });
  assert.equal(response?.text, "3 and 5");
  assert.deepEqual(toolCalls.map((c) => [c.name, c.args]).sort(), [
    ["calc.add", { a: 9, b: 4 }],
    ["math.add", { a: 1, b: 2 }],
  ]);
  const deltas = events.filter((e) => e.type === "tool_call.arguments_delta" && e.item_id === "x2");
  assert(deltas.length >= 3, "arguments arrive in pieces");
  assert.equal(deltas.map((e) => e.delta).join(""), '{"a":9,"b":4}');
  const tool = (server.requests[0].body.tools as JsonObject[])[0].function as JsonObject;
  assert.equal(tool.description, "Adds two numbers");
  assert.equal(tool.strict, false);
  const assistant = messages(server, 1).find((m) => m.tool_calls)!;
  assert.deepEqual((assistant.tool_calls as JsonObject[]).map((c) => c.id), ["x1", "x2"]);
  assert.deepEqual(
    messages(server, 1).filter((m) => m.role === "tool").map((m) => m.tool_call_id),
    ["x1", "x2"],
  );
});

Deno.test("completions: malformed arguments are told to the model; an unknown tool too", async () => {
  const { server, adapter } = await setup([
    {
      toolCalls: [
        { name: "mul", arguments: "{'a': 1}", callId: "m1" },
        { name: "divide", arguments: {}, callId: "m2" },
      ],
    },
    { text: "oops" },
  ]);
  await using _ = server;
  toolCalls.length = 0;
  const { response } = await run(adapter, { toolkits: toolkits() });
  assert.equal(response?.text, "oops");
  assert.deepEqual(toolCalls, []);
  const results = messages(server, 1).filter((m) => m.role === "tool");
  assert.match(String(results[0].content), /not valid JSON/);
  assert.match(String(results[1].content), /no tool named divide/);
});

Deno.test("completions: a server that sends no usage is fine; reasoning_content streams as reasoning", async () => {
  const { server, adapter } = await setup([{
    reasoning: { summary: ["hmm ", "ok"] },
    text: "yes",
    omitUsage: true,
  }], {
    includeUsage: false,
  });
  await using _ = server;
  const { response, events, items } = await run(adapter);
  assert.equal(response?.text, "yes");
  assert.deepEqual(response?.usage, { input_tokens: 0, output_tokens: 0 });
  assert.equal(server.requests[0].body.stream_options, undefined);
  assert.deepEqual(eventTypes(events).slice(0, 3), [
    "reasoning_content.started",
    "reasoning_content.delta",
    "reasoning_content.ended",
  ]);
  assert.deepEqual(
    items.filter((i) => i.kind === "reasoning").map((i) => i.kind === "reasoning" && i.text),
    ["hmm ok"],
  );
  // Reasoning is not sent back.
  assert.equal(JSON.stringify(server.requests[0].body.messages).includes("hmm"), false);
});

Deno.test("completions: 429 with retry-after-ms, then success; 500; 400 not retried; a mid-stream error chunk", async () => {
  {
    const { server, adapter } = await setup([
      { error: { status: 429, headers: { "retry-after-ms": "250" } } },
      { text: "ok" },
    ], { retryBaseDelayMs: 10_000, retryMaxDelayMs: 30_000 });
    await using _ = server;
    const { response, events } = await run(adapter);
    assert.equal(response?.text, "ok");
    const waited = server.requests[1].receivedAt - server.requests[0].receivedAt;
    assert(waited >= 230 && waited < 5000, `waited ${waited} ms`);
    assert.equal(events.filter((e) => e.type === "thread.event").length, 1);
  }
  {
    const { server, adapter } = await setup([{ error: { status: 503 } }, { text: "ok" }]);
    await using _ = server;
    assert.equal((await run(adapter)).response?.text, "ok");
    assert.equal(server.requests.length, 2);
  }
  {
    const { server, adapter } = await setup([{ error: { status: 400, message: "bad tools" } }]);
    await using _ = server;
    const { error } = await run(adapter);
    assert(error instanceof LLMError && error.status === 400 && /bad tools/.test(error.message));
    assert.equal(server.requests.length, 1);
  }
  {
    const { server, adapter } = await setup([
      { text: ["a", "b"], fail: { afterEvents: 2, message: "model crashed" } },
      { text: "never" },
    ]);
    await using _ = server;
    const { error } = await run(adapter);
    assert(error instanceof LLMError && /model crashed/.test(error.message), String(error));
    assert.equal(server.requests.length, 1, "text was streamed: not replayed");
  }
});

Deno.test("completions: an interrupt mid-stream aborts the request; an idle server times out", async () => {
  const { server, adapter } = await setup([{ text: Array(40).fill("w "), delayMs: 30 }, {
    hang: true,
  }], {
    idleTimeoutMs: 250,
    maxRetries: 0,
  });
  await using _ = server;
  const controller = new AbortController();
  const { error } = await run(adapter, {
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === "text_content.delta") controller.abort();
    },
  });
  assert(error instanceof LLMError && error.code === "interrupted", String(error));
  await server.waitForDisconnect(server.requests[0]);
  const idle = await run(adapter);
  assert(idle.error instanceof LLMError && idle.error.code === "timeout", String(idle.error));
});

Deno.test("completions: an output schema becomes response_format json_schema; a forced tool is tool_choice on round 1", async () => {
  const schema = {
    type: "object",
    properties: { n: { type: "number" } },
    required: ["n"],
    additionalProperties: false,
  };
  const { server, adapter } = await setup([
    { toolCalls: [{ name: "mul", arguments: { a: 2, b: 2 } }] },
    { text: '{"n": 4}' },
  ]);
  await using _ = server;
  const { response } = await run(adapter, {
    toolkits: toolkits(),
    outputSchema: schema,
    toolChoice: { toolkit: "math", tool: "mul" },
  });
  assert.deepEqual(response?.json, { n: 4 });
  const [first, second] = server.requests.map((r) => r.body);
  assert.deepEqual(first.response_format, {
    type: "json_schema",
    json_schema: { name: "response", schema, strict: true },
  });
  assert.deepEqual(first.tool_choice, { type: "function", function: { name: "mul" } });
  assert.equal(second.tool_choice, undefined);
});

Deno.test("completions: attachments become image_url / file parts; tool images become a placeholder", async () => {
  const { server, adapter } = await setup([
    { toolCalls: [{ name: "pixel", arguments: {}, callId: "p" }] },
    { text: "seen" },
  ]);
  await using _ = server;
  await run(adapter, { toolkits: toolkits() }, [{
    kind: "user",
    text: "see",
    attachments: [
      { url: "room:///a.png", mimeType: "image/png", data: "iVBORw0KGgo=" },
      { url: "room:///b.pdf", data: "JVBERi0=" },
    ],
  }]);
  assert.deepEqual(messages(server, 0)[1].content, [
    { type: "text", text: "see" },
    { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    {
      type: "file",
      file: { filename: "b.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
    },
  ]);
  assert.equal(messages(server, 1).find((m) => m.role === "tool")?.content, "[image]");
});

Deno.test("completions: listModels lists the configured model, or asks the server when told to", async () => {
  await using server = await FakeOpenAIServer.start({ models: ["llama3.2", "qwen3"] });
  const local = new OpenAICompletionsAdapter({
    baseURL: server.baseURL,
    model: "llama3.2",
    env: noEnv,
  });
  assert.deepEqual(await local.listModels(), [{ name: "llama3.2", modalities: ["text"] }]);
  assert.equal(server.requests.length, 0);
  const asking = new OpenAICompletionsAdapter({
    baseURL: server.baseURL,
    model: "llama3.2",
    env: noEnv,
    modelsFromServer: true,
  });
  assert.deepEqual((await asking.listModels()).map((m) => m.name), ["llama3.2", "qwen3"]);
  const gone = new OpenAICompletionsAdapter({
    baseURL: "http://127.0.0.1:9/v1",
    model: "m",
    env: noEnv,
    modelsFromServer: true,
  });
  await assert.rejects(
    gone.listModels(),
    (e) => e instanceof LLMError && /cannot list the models/.test(e.message),
  );
});
