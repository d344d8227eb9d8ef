// OpenAIResponsesAdapter with the real `openai` client against FakeOpenAIServer on 127.0.0.1:
// streaming, tools, retries, timeouts, interrupts, usage, structured output, reasoning, the
// request body, and the websocket mode.
import assert from "node:assert/strict";
import type { JsonObject } from "@meshagent/api";
import { LLMError } from "@meshagent/agents";
import { OpenAIResponsesAdapter, type OpenAIResponsesAdapterOptions } from "./mod.ts";
import { FakeOpenAIServer, type FakeOpenAIServerOptions } from "./testing.ts";
import { eventTypes, noEnv, run, toolCalls, toolkits } from "./_test_helpers.ts";
import { ADAPTERS_VERSION } from "./_version.ts";

async function setup(
  replies: FakeOpenAIServerOptions["replies"],
  options: OpenAIResponsesAdapterOptions = {},
  serverOptions: FakeOpenAIServerOptions = {},
) {
  const server = await FakeOpenAIServer.start({ replies, ...serverOptions });
  const adapter = new OpenAIResponsesAdapter({
    baseURL: server.baseURL,
    apiKey: "sk-test",
    env: noEnv,
    maxRetries: 3,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 20,
    ...options,
  });
  return { server, adapter };
}

const input = (server: FakeOpenAIServer, n: number) =>
  server.requests[n].body.input as JsonObject[];

Deno.test("responses: text streams as deltas; the request carries rules, history and our headers", async () => {
  const { server, adapter } = await setup([{ text: ["Hel", "lo", " there"] }]);
  await using _ = server;
  const { response, events, items, error } = await run(adapter, {}, [
    { kind: "user", text: "earlier" },
    { kind: "assistant", text: "noted" },
    { kind: "user", text: "go" },
  ]);
  assert.equal(error, undefined);
  assert.equal(response?.text, "Hello there");
  assert.deepEqual(
    events.filter((e) => e.type === "text_content.delta").map((e) => e.text),
    ["Hel", "lo", " there"],
  );
  assert.deepEqual(eventTypes(events), [
    "text_content.started",
    "text_content.delta",
    "text_content.ended",
  ]);
  assert.equal(events.at(-1)?.text, "Hello there");
  assert.deepEqual(items.at(-1), {
    kind: "assistant",
    text: "Hello there",
    itemId: events[0].item_id,
  });

  const [request] = server.requests;
  assert.equal(request.api, "responses");
  assert.equal(request.headers["user-agent"], `meshagent-deno/${ADAPTERS_VERSION}`);
  assert.equal(request.headers.authorization, "Bearer sk-test");
  const body = request.body;
  assert.equal(body.model, "gpt-5.2");
  assert.equal(body.stream, true);
  assert.equal(body.store, false);
  assert.equal(body.max_output_tokens, 32000);
  assert.equal(body.instructions, "Be brief.\n\nUse tools.");
  assert.deepEqual(body.include, ["reasoning.encrypted_content"]);
  assert.equal(body.tools, undefined);
  assert.deepEqual(body.input, [
    { type: "message", role: "user", content: [{ type: "input_text", text: "earlier" }] },
    {
      type: "message",
      role: "assistant",
      content: [{ type: "output_text", text: "noted", annotations: [] }],
    },
    { type: "message", role: "user", content: [{ type: "input_text", text: "go" }] },
  ]);
});

Deno.test("responses: a tool call round trip — namespace tools, the call runs, its output goes back", async () => {
  const { server, adapter } = await setup([
    {
      toolCalls: [{ namespace: "math", name: "add", arguments: { a: 2, b: 3 }, callId: "call_1" }],
    },
    { text: "5" },
  ]);
  await using _ = server;
  toolCalls.length = 0;
  const { response, events, items } = await run(adapter, { toolkits: toolkits() });
  assert.equal(response?.text, "5");
  assert.deepEqual(toolCalls, [{ name: "math.add", args: { a: 2, b: 3 } }]);
  assert.deepEqual(items.map((i) => i.kind), ["user", "tool_call", "tool_result", "assistant"]);
  assert.deepEqual(eventTypes(events), [
    "tool_call.pending",
    "tool_call.arguments_delta",
    "tool_call.started",
    "tool_call.ended",
    "text_content.started",
    "text_content.delta",
    "text_content.ended",
  ]);
  const pending = events[0];
  assert.equal(pending.toolkit, "math");
  assert.equal(pending.tool, "add");
  assert.equal(
    events.filter((e) => e.type === "tool_call.arguments_delta").map((e) => e.delta).join(""),
    '{"a":2,"b":3}',
  );
  assert.equal(events.find((e) => e.type === "tool_call.started")?.item_id, pending.item_id);

  const tools = server.requests[0].body.tools as JsonObject[];
  assert.deepEqual(tools.map((t) => [t.type, t.name, t.description]), [
    ["namespace", "math", "Arithmetic"],
    ["namespace", "calc_v2", "calc.v2"],
  ]);
  assert.deepEqual((tools[0].tools as JsonObject[])[0], {
    type: "function",
    name: "add",
    description: "Adds two numbers",
    parameters: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
      additionalProperties: false,
    },
    strict: true,
  });
  assert.equal((tools[0].tools as JsonObject[])[1].strict, false);
  assert.deepEqual(input(server, 1).slice(1), [
    {
      type: "function_call",
      call_id: "call_1",
      name: "add",
      namespace: "math",
      arguments: '{"a":2,"b":3}',
    },
    { type: "function_call_output", call_id: "call_1", output: '{"sum":5}' },
  ]);
});

Deno.test("responses: two tool calls in one round both run; the next input has each call with its output", async () => {
  const { server, adapter } = await setup([
    {
      toolCalls: [
        { namespace: "math", name: "add", arguments: { a: 1, b: 2 }, callId: "c1" },
        { namespace: "math", name: "mul", arguments: { a: 3, b: 4 }, callId: "c2" },
      ],
    },
    { text: "3 and 12" },
  ]);
  await using _ = server;
  toolCalls.length = 0;
  const { response } = await run(adapter, { toolkits: toolkits() });
  assert.equal(response?.text, "3 and 12");
  assert.deepEqual(toolCalls.map((c) => c.name).sort(), ["math.add", "math.mul"]);
  assert.deepEqual(input(server, 1).slice(1).map((i) => [i.type, i.call_id, i.output ?? i.name]), [
    ["function_call", "c1", "add"],
    ["function_call_output", "c1", '{"sum":3}'],
    ["function_call", "c2", "mul"],
    ["function_call_output", "c2", '{"product":12}'],
  ]);
});

Deno.test("responses: malformed tool arguments are told to the model, which answers; the tool never runs", async () => {
  const { server, adapter } = await setup([
    { toolCalls: [{ namespace: "math", name: "add", arguments: '{"a": 2, "b": ', callId: "bad" }] },
    { text: "sorry" },
  ]);
  await using _ = server;
  toolCalls.length = 0;
  const { response, events } = await run(adapter, { toolkits: toolkits() });
  assert.equal(response?.text, "sorry");
  assert.deepEqual(toolCalls, []);
  const ended = events.find((e) => e.type === "tool_call.ended")!;
  assert.match(String((ended.error as { message: string }).message), /not valid JSON/);
  const output = input(server, 1).find((i) => i.type === "function_call_output")!;
  assert.equal(output.call_id, "bad");
  assert.match(String(output.output), /^error: the arguments of add are not valid JSON/);
  // The malformed call itself goes back as the model sent it.
  assert.equal(
    input(server, 1).find((i) => i.type === "function_call")!.arguments,
    '{"a": 2, "b": ',
  );
});

Deno.test("responses: calls resolve by namespace, and by unqualified name where it is unique", async () => {
  const { server, adapter } = await setup([
    {
      toolCalls: [
        { namespace: "calc_v2", name: "add", arguments: { a: 5, b: 1 }, callId: "n1" },
        { name: "mul", arguments: { a: 2, b: 2 }, callId: "n2" },
        { namespace: "nope", name: "add", arguments: { a: 1, b: 1 }, callId: "n3" },
      ],
    },
    { text: "done" },
  ]);
  await using _ = server;
  toolCalls.length = 0;
  const { events } = await run(adapter, { toolkits: toolkits() });
  assert.deepEqual(toolCalls.map((c) => c.name).sort(), ["calc.add", "math.mul"]);
  const ended = events.filter((e) => e.type === "tool_call.ended")
    .sort((a, b) => String(a.call_id).localeCompare(String(b.call_id)));
  assert.deepEqual(ended.map((e) => [e.call_id, e.toolkit, e.tool]), [
    ["n1", "calc.v2", "add"],
    ["n2", "math", "mul"],
    ["n3", "nope", "add"],
  ]);
  assert.match(String((ended[2].error as { message: string }).message), /no tool named add/);
  // Shown back under the names of the tools that ran.
  assert.deepEqual(
    input(server, 1).filter((i) => i.type === "function_call").map((i) => [i.namespace, i.name]),
    [["calc_v2", "add"], ["math", "mul"], ["nope", "add"]],
  );
});

Deno.test("responses: a 429 with retry-after is retried after that long, telling the thread", async () => {
  const { server, adapter } = await setup(
    [{ error: { status: 429, message: "Rate limit reached", headers: { "retry-after": "0.3" } } }, {
      text: "ok",
    }],
    // The backoff alone would wait 10 s: the retry-after wins.
    { retryBaseDelayMs: 10_000, retryMaxDelayMs: 30_000 },
  );
  await using _ = server;
  const { response, events } = await run(adapter);
  assert.equal(response?.text, "ok");
  const [first, second] = server.requests;
  const waited = second.receivedAt - first.receivedAt;
  assert(waited >= 280 && waited < 5000, `waited ${waited} ms`);
  const notice = events.find((e) => e.type === "thread.event")!.event as JsonObject;
  assert.equal(notice.headline, "Retrying the LLM request (retry 1/3)");
  assert.match(String(notice.details), /429: Rate limit reached/);
  assert.equal(events[0].type, "thread.event");
});

Deno.test("responses: a 429 storm exhausts the retries: LLMError with status 429", async () => {
  const { server, adapter } = await setup(() => ({
    error: { status: 429, message: "Rate limit reached", headers: { "retry-after-ms": "5" } },
  }), { maxRetries: 2 });
  await using _ = server;
  const { error, events } = await run(adapter);
  assert(error instanceof LLMError);
  assert.equal(error.status, 429);
  assert.equal(error.code, "rate_limited");
  assert.match(error.message, /after 2 retries/);
  assert.equal(server.requests.length, 3);
  assert.equal(events.filter((e) => e.type === "thread.event").length, 2);
});

Deno.test("responses: 500 and a dropped stream are retried; 400 and insufficient_quota are not", async () => {
  {
    const { server, adapter } = await setup([
      { error: { status: 500 } },
      { text: ["par", "tial"], drop: { afterEvents: 2 } },
      { text: "fine" },
    ]);
    await using _ = server;
    const { response } = await run(adapter);
    assert.equal(response?.text, "fine");
    assert.equal(server.requests.length, 3);
  }
  for (
    const error of [
      { status: 400, message: "Invalid value: 'x'" },
      { status: 404, message: "The model `gpt-9` does not exist", type: "not_found_error" },
      { status: 429, code: "insufficient_quota" },
    ]
  ) {
    const { server, adapter } = await setup([{ error }, { text: "never" }]);
    await using _ = server;
    const outcome = await run(adapter);
    assert(outcome.error instanceof LLMError);
    assert.equal(outcome.error.status, error.status);
    assert.equal(server.requests.length, 1, `${error.status} must not be retried`);
  }
});

Deno.test("responses: in-stream failures — response.failed before output is retried, an error event after text ends the turn", async () => {
  {
    const { server, adapter } = await setup([
      { text: "x", fail: { afterEvents: 2, kind: "response.failed", code: "server_error" } },
      { text: "recovered" },
    ]);
    await using _ = server;
    const { response } = await run(adapter);
    assert.equal(response?.text, "recovered");
  }
  const { server, adapter } = await setup([
    {
      text: ["one ", "two ", "three"],
      fail: { afterEvents: 6, kind: "error", code: "server_error", message: "boom" },
    },
    { text: "never" },
  ]);
  await using _ = server;
  const { error, events } = await run(adapter);
  assert(error instanceof LLMError);
  assert.match(error.message, /boom/);
  assert(events.some((e) => e.type === "text_content.delta"));
  assert.equal(server.requests.length, 1, "a round that streamed text is not replayed");
});

Deno.test("responses: a server that never answers times out (idle), and so does one that stalls mid-stream", async () => {
  const { server, adapter } = await setup([{ hang: true }, {
    text: ["a", "b", "c"],
    stall: { afterEvents: 5 },
  }], {
    idleTimeoutMs: 250,
    maxRetries: 0,
  });
  await using _ = server;
  const first = await run(adapter);
  assert(first.error instanceof LLMError);
  assert.equal(first.error.code, "timeout");
  assert.match(first.error.message, /sent nothing for 0.25 s/);
  const second = await run(adapter);
  assert(second.error instanceof LLMError);
  assert.equal(second.error.code, "timeout");
  assert(second.events.some((e) => e.type === "text_content.delta"));
  await server.waitForDisconnect(server.requests[1]);
});

Deno.test("responses: the whole-request timeout ends a stream that keeps trickling", async () => {
  const { server, adapter } = await setup([{ text: Array(50).fill("x"), delayMs: 40 }], {
    timeoutMs: 300,
    idleTimeoutMs: 5000,
    maxRetries: 0,
  });
  await using _ = server;
  const { error } = await run(adapter);
  assert(error instanceof LLMError);
  assert.equal(error.code, "timeout");
  assert.match(error.message, /longer than 0.3 s/);
});

Deno.test("responses: an interrupt mid-stream aborts the HTTP request (the server sees the client leave)", async () => {
  const { server, adapter } = await setup([{ text: Array(40).fill("word "), delayMs: 30 }]);
  await using _ = server;
  const controller = new AbortController();
  const pending = run(adapter, {
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === "text_content.delta") controller.abort();
    },
  });
  const { error } = await pending;
  assert(error instanceof LLMError);
  assert.equal(error.code, "interrupted");
  await server.waitForDisconnect(server.requests[0]);
  assert.equal(server.requests[0].finished, false);
});

Deno.test("responses: usage comes from response.completed and adds up over rounds", async () => {
  const { server, adapter } = await setup([
    {
      toolCalls: [{ namespace: "math", name: "add", arguments: { a: 1, b: 1 } }],
      usage: { input_tokens: 100, output_tokens: 10, cached_input_tokens: 40, reasoning_tokens: 5 },
    },
    { text: "2", usage: { input_tokens: 120, output_tokens: 3, cached_input_tokens: 100 } },
  ]);
  await using _ = server;
  const context = adapter.createSession();
  context.appendUserMessage("1+1");
  const response = await adapter.createResponse({
    context,
    caller: { id: "a", attributes: {} },
    toolkits: toolkits(),
  });
  const expected = {
    input_tokens: 220,
    output_tokens: 13,
    cached_input_tokens: 140,
    reasoning_tokens: 5,
  };
  assert.deepEqual(response.usage, expected);
  assert.deepEqual(context.usage, expected);
});

Deno.test("responses: an output schema becomes text.format json_schema and the answer is parsed", async () => {
  const schema = {
    type: "object",
    properties: { answer: { type: "number" } },
    required: ["answer"],
    additionalProperties: false,
  };
  const { server, adapter } = await setup([{ text: ['{"answer"', ": 42}"] }]);
  await using _ = server;
  const { response } = await run(adapter, { outputSchema: schema });
  assert.deepEqual(response?.json, { answer: 42 });
  assert.deepEqual(server.requests[0].body.text, {
    format: { type: "json_schema", name: "response", schema, strict: true },
  });
});

Deno.test("responses: reasoning summaries stream; encrypted reasoning is kept and sent back to the same model", async () => {
  const { server, adapter } = await setup([
    {
      reasoning: { summary: ["Adding.", "Then answer."], encryptedContent: "gAAAA-secret" },
      toolCalls: [{ namespace: "math", name: "add", arguments: { a: 1, b: 2 } }],
    },
    { text: "3" },
    { text: "again" },
  ], { reasoningEffort: "low" });
  await using _ = server;
  const { events, items } = await run(adapter, { toolkits: toolkits() });
  assert.deepEqual(eventTypes(events).slice(0, 3), [
    "reasoning_content.started",
    "reasoning_content.delta",
    "reasoning_content.ended",
  ]);
  assert.equal(
    events.filter((e) => e.type === "reasoning_content.delta").map((e) => e.text).join(""),
    "Adding.\n\nThen answer.",
  );
  const reasoning = items.find((i) => i.kind === "reasoning")!;
  assert.equal(reasoning.kind === "reasoning" && reasoning.provider, "openai");
  assert.equal(
    reasoning.kind === "reasoning" && reasoning.state?.encrypted_content,
    "gAAAA-secret",
  );
  assert.deepEqual(server.requests[0].body.reasoning, { effort: "low", summary: "detailed" });
  const replayed = input(server, 1).find((i) => i.type === "reasoning")!;
  assert.equal(replayed.encrypted_content, "gAAAA-secret");
  assert.deepEqual(replayed.summary, [
    { type: "summary_text", text: "Adding." },
    { type: "summary_text", text: "Then answer." },
  ]);
  // Another model, or another provider's adapter, does not get it.
  const context = adapter.createSession();
  for (const item of items) context.append(item);
  context.appendUserMessage("more");
  await adapter.createResponse({
    context,
    caller: { id: "a", attributes: {} },
    toolkits: [],
    model: "gpt-5.2-mini",
  });
  assert.equal(input(server, 2).some((i) => i.type === "reasoning"), false);
  assert.equal(server.requests[2].body.model, "gpt-5.2-mini");
});

Deno.test("responses: attachments become input_image / input_file / text; tool images go back as output parts", async () => {
  const { server, adapter } = await setup([
    { toolCalls: [{ namespace: "math", name: "pixel", arguments: {}, callId: "px" }] },
    { text: "a pixel" },
  ]);
  await using _ = server;
  await run(adapter, { toolkits: toolkits() }, [{
    kind: "user",
    text: "look",
    attachments: [
      { url: "room:///a.png", name: "a.png", mimeType: "image/png", data: "iVBORw0KGgo=" },
      { url: "room:///doc.pdf", name: "doc.pdf", data: "JVBERi0=" },
      {
        url: "room:///notes.txt",
        name: "notes.txt",
        mimeType: "text/plain",
        data: btoa("hello notes"),
      },
      { url: "https://example.com/far.bin", name: "far.bin" },
    ],
  }]);
  assert.deepEqual(input(server, 0)[0].content as JsonObject[], [
    { type: "input_text", text: "look" },
    { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
    { type: "input_file", filename: "doc.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
    { type: "input_text", text: "notes.txt:\nhello notes" },
    { type: "input_text", text: "[attached: far.bin (https://example.com/far.bin)]" },
  ]);
  const output = input(server, 1).find((i) => i.type === "function_call_output")!;
  assert.deepEqual(output.output, [
    { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
  ]);
});

Deno.test("responses: tool_choice — a named tool is forced on the first round only; flat tools when asked", async () => {
  const { server, adapter } = await setup([
    { toolCalls: [{ namespace: "math", name: "mul", arguments: { a: 2, b: 3 } }] },
    { text: "6" },
  ], { namespaceTools: false, parallelToolCalls: false });
  await using _ = server;
  const { response } = await run(adapter, {
    toolkits: toolkits(),
    toolChoice: { toolkit: "math", tool: "mul" },
  });
  assert.equal(response?.text, "6");
  const [first, second] = server.requests.map((r) => r.body);
  assert.equal(first.tool_choice, "required");
  assert.deepEqual((first.tools as JsonObject[]).map((t) => [t.type, t.name]), [[
    "function",
    "mul",
  ]]);
  assert.equal(first.parallel_tool_calls, false);
  assert.equal(second.tool_choice, undefined);
  assert.deepEqual((second.tools as JsonObject[]).map((t) => t.name), [
    "math__add",
    "mul",
    "pixel",
    "calc_v2__add",
  ]);

  const unknown = await run(adapter, { toolkits: toolkits(), toolChoice: { tool: "nope" } });
  assert(unknown.error instanceof LLMError);
  assert.match(unknown.error.message, /tool_choice names nope/);
});

Deno.test("responses: options — response_options and per-request options win; on-behalf-of header; no key is a clear error", async () => {
  const { server, adapter } = await setup(() => ({ text: "ok" }), {
    responseOptions: { temperature: 0.5, max_output_tokens: 100 },
    maxOutputTokens: null,
    model: "gpt-4.1",
  });
  await using _ = server;
  await run(adapter, {
    options: { temperature: 0 },
    onBehalfOf: { id: "p", name: "ada", attributes: {} },
  });
  const body = server.requests[0].body;
  assert.equal(body.temperature, 0);
  assert.equal(body.max_output_tokens, 100);
  assert.equal(body.model, "gpt-4.1");
  assert.equal(body.include, undefined, "no encrypted reasoning for a non-reasoning model");
  assert.equal(server.requests[0].headers["meshagent-on-behalf-of"], "ada");

  const keyless = new OpenAIResponsesAdapter({ baseURL: "https://api.example.com/v1", env: noEnv });
  const { error } = await run(keyless);
  assert(error instanceof LLMError);
  assert.equal(error.code, "no_api_key");
  assert.match(error.message, /OPENAI_API_KEY/);
  assert.deepEqual(await adapter.listModels(), [{
    name: "gpt-4.1",
    modalities: ["text"],
    supports_attachments: true,
  }]);
});

Deno.test("responses websocket: rounds share one socket; later rounds send previous_response_id and only the new items", async () => {
  const { server, adapter } = await setup([
    { toolCalls: [{ namespace: "math", name: "add", arguments: { a: 2, b: 2 }, callId: "w1" }] },
    { toolCalls: [{ namespace: "math", name: "mul", arguments: { a: 4, b: 4 }, callId: "w2" }] },
    { text: ["six", "teen"] },
  ], { mode: "websocket" });
  await using _ = server;
  const { response, events } = await run(adapter, { toolkits: toolkits() });
  assert.equal(response?.text, "sixteen");
  assert(events.some((e) => e.type === "tool_call.arguments_delta"));
  assert.deepEqual(server.requests.map((r) => r.transport), [
    "websocket",
    "websocket",
    "websocket",
  ]);
  assert.equal(server.websocketConnections, 1);
  const [first, second, third] = server.requests;
  assert.equal(first.headers["user-agent"], `meshagent-deno/${ADAPTERS_VERSION}`);
  assert.equal(first.headers.authorization, "Bearer sk-test");
  assert.equal(first.body.previous_response_id, undefined);
  assert.equal(first.body.stream, undefined);
  assert.equal(first.body.instructions, "Be brief.\n\nUse tools.");
  assert.equal(second.body.previous_response_id, "resp_1");
  assert.deepEqual(second.body.input, [{
    type: "function_call_output",
    call_id: "w1",
    output: '{"sum":4}',
  }]);
  assert.equal(third.body.previous_response_id, "resp_2");
  assert.deepEqual(third.body.input, [{
    type: "function_call_output",
    call_id: "w2",
    output: '{"product":16}',
  }]);
  assert((second.body.tools as unknown[]).length > 0, "tools are sent on every round");
});

Deno.test("responses websocket: a forgotten previous response is resent in full; error events retry; interrupts close the socket", async () => {
  const { server, adapter } = await setup(
    [
      { toolCalls: [{ namespace: "math", name: "add", arguments: { a: 1, b: 1 }, callId: "f1" }] },
      { text: "2" },
    ],
    { mode: "websocket" },
    { rememberResponses: false },
  );
  await using _ = server;
  const { response, error: failure } = await run(adapter, { toolkits: toolkits() });
  assert.equal(response?.text, "2", String(failure));
  // Round 2 went incremental, was refused, and went again with the whole input.
  assert.equal(server.requests.length, 3);
  assert.equal(server.requests[1].body.previous_response_id, "resp_1");
  assert.equal(server.requests[2].body.previous_response_id, undefined);
  assert.equal(input(server, 2).length, 3);

  server.setReplies([
    { error: { status: 429, message: "slow down", headers: { "retry-after-ms": "10" } } },
    { text: Array(40).fill("w "), delayMs: 30 },
  ]);
  const controller = new AbortController();
  const { error, events } = await run(adapter, {
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === "text_content.delta") controller.abort();
    },
  });
  assert(error instanceof LLMError && error.code === "interrupted", String(error));
  assert.match(
    String((events.find((e) => e.type === "thread.event")?.event as JsonObject).details),
    /slow down/,
  );
  await server.waitForDisconnect(server.requests[4]);
  assert.equal(server.websocketConnections, 2, "one socket per response");
});

Deno.test("responses websocket: a refused handshake is a clear error, not retried; no server at all is retried", async () => {
  const { server, adapter } = await setup([{ text: "never" }], {
    mode: "websocket",
    apiKey: "sk-wrong",
  }, {
    apiKey: "sk-right",
  });
  await using _ = server;
  const { error } = await run(adapter);
  assert(error instanceof LLMError, String(error));
  assert.equal(error.status, 401);
  assert.match(error.message, /401/);
  assert.equal(server.websocketConnections, 0);

  const closed = await FakeOpenAIServer.start();
  const baseURL = closed.baseURL;
  await closed.close();
  const nowhere = new OpenAIResponsesAdapter({
    baseURL,
    apiKey: "k",
    env: noEnv,
    mode: "websocket",
    maxRetries: 1,
    retryBaseDelayMs: 1,
  });
  const gone = await run(nowhere);
  assert(gone.error instanceof LLMError, String(gone.error));
  assert.equal(gone.error.code, "network");
  assert.match(gone.error.message, /after 1 retries/);
});
