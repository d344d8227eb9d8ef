// FakeOpenAIServer on the wire, without the SDK: the SSE framing, the chunk shapes, the error
// bodies and the websocket frames are the documented ones.
import assert from "node:assert/strict";
import type { JsonObject } from "@meshagent/api";
import { FakeOpenAIServer } from "./testing.ts";

async function sse(response: Response): Promise<{ event?: string; data: string }[]> {
  const text = await response.text();
  return text.split("\n\n").filter((frame) => frame !== "").map((frame) => {
    const event = /^event: (.*)$/m.exec(frame)?.[1];
    const data = /^data: (.*)$/m.exec(frame)![1];
    return event === undefined ? { data } : { event, data };
  });
}

const post = (server: FakeOpenAIServer, path: string, body: JsonObject) =>
  fetch(`${server.baseURL}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer k" },
    body: JSON.stringify(body),
  });

Deno.test("fake server: a Responses stream is named SSE events, numbered, ending with response.completed", async () => {
  await using server = await FakeOpenAIServer.start({
    replies: [{
      reasoning: { summary: "think", encryptedContent: "enc" },
      text: ["a", "b"],
      toolCalls: [{ name: "f", namespace: "ns", arguments: { x: 1 }, callId: "c" }],
      usage: { input_tokens: 3, output_tokens: 4 },
    }],
  });
  const response = await post(server, "/responses", { model: "m", input: "hi", stream: true });
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const frames = await sse(response);
  const events = frames.map((frame) => JSON.parse(frame.data));
  for (const [i, frame] of frames.entries()) {
    assert.equal(frame.event, events[i].type, "the SSE event name is the payload's type");
    assert.equal(events[i].sequence_number, i);
  }
  assert.deepEqual(events.map((e) => e.type), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_summary_part.done",
    "response.output_item.done",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
  ]);
  const completed = events.at(-1).response;
  assert.equal(completed.status, "completed");
  assert.deepEqual(completed.output.map((o: JsonObject) => o.type), [
    "reasoning",
    "message",
    "function_call",
  ]);
  assert.deepEqual(completed.output[2], {
    type: "function_call",
    id: completed.output[2].id,
    call_id: "c",
    name: "f",
    namespace: "ns",
    arguments: '{"x":1}',
    status: "completed",
  });
  assert.equal(completed.output[0].encrypted_content, "enc");
  assert.deepEqual(completed.usage, {
    input_tokens: 3,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 4,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 7,
  });
  assert.equal(server.requests[0].finished, true);
  assert.equal(server.requests[0].disconnected, false);
});

Deno.test("fake server: a Chat Completions stream is data-only chunks, usage when asked, then [DONE]", async () => {
  await using server = await FakeOpenAIServer.start({
    replies: [{ text: "hi", toolCalls: [{ name: "f", arguments: "{}" }] }, { text: "x" }],
  });
  const frames = await sse(
    await post(server, "/chat/completions", {
      model: "m",
      messages: [],
      stream: true,
      stream_options: { include_usage: true },
    }),
  );
  assert(frames.every((frame) => frame.event === undefined));
  assert.equal(frames.at(-1)!.data, "[DONE]");
  const chunks = frames.slice(0, -1).map((frame) => JSON.parse(frame.data));
  assert(chunks.every((chunk) => chunk.object === "chat.completion.chunk"));
  assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" });
  assert.equal(chunks.at(-2).choices[0].finish_reason, "tool_calls");
  assert.deepEqual(chunks.at(-1).choices, []);
  assert.equal(typeof chunks.at(-1).usage.prompt_tokens, "number");
  const second = await sse(
    await post(server, "/chat/completions", { model: "m", messages: [], stream: true }),
  );
  assert(!second.some((frame) => frame.data.includes('"usage"')), "no usage unless asked");
});

Deno.test("fake server: errors have the API's body and headers; unknown routes 404; the key can be required", async () => {
  await using server = await FakeOpenAIServer.start({
    replies: [{ error: { status: 429, message: "slow", headers: { "retry-after": "1" } } }],
    apiKey: "k",
  });
  const limited = await post(server, "/responses", { model: "m" });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "1");
  assert.deepEqual(await limited.json(), {
    error: { message: "slow", type: "rate_limit_error", param: null, code: null },
  });
  const exhausted = await post(server, "/responses", { model: "m" });
  assert.equal(exhausted.status, 500);
  assert.match((await exhausted.json()).error.message, /no reply scripted for request 2/);
  const unknown = await post(server, "/embeddings", {});
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
  const keyless = await fetch(`${server.baseURL}/models`);
  assert.equal(keyless.status, 401);
  await keyless.body?.cancel();
  const models = await fetch(`${server.baseURL}/models`, {
    headers: { authorization: "Bearer k" },
  });
  assert.deepEqual((await models.json()).data.map((m: JsonObject) => m.id), ["gpt-5.2"]);
});

Deno.test("fake server: the websocket mode answers response.create frames with the same events", async () => {
  await using server = await FakeOpenAIServer.start({ replies: [{ text: "yo" }] });
  const socket = new WebSocket(server.baseURL.replace("http", "ws") + "/responses");
  const types: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    socket.onmessage = (message) => {
      const event = JSON.parse(String(message.data));
      types.push(event.type);
      if (event.type === "response.completed") resolve();
    };
    socket.onerror = () => reject(new Error("socket error"));
  });
  socket.onopen = () =>
    socket.send(JSON.stringify({ type: "response.create", model: "m", input: "hi" }));
  await done;
  const closed = new Promise((resolve) => socket.onclose = resolve);
  socket.close();
  await closed;
  assert.equal(types[0], "response.created");
  assert(types.includes("response.output_text.delta"));
  assert.deepEqual(server.requests[0].body, { model: "m", input: "hi" });
  assert.equal(server.requests[0].transport, "websocket");
});
