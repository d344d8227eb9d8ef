// The fake Messages API speaks the documented wire format: checked with raw fetch (event names,
// order and payloads) and with the real SDK's own stream helper, which assembles the message.
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { FakeAnthropicServer } from "./testing.ts";

function parseSse(text: string): { event: string; data: Record<string, unknown> }[] {
  return text.trim().split("\n\n").map((chunk) => {
    const [eventLine, dataLine] = chunk.split("\n");
    assert.match(eventLine, /^event: /);
    assert.match(dataLine, /^data: /);
    return { event: eventLine.slice(7), data: JSON.parse(dataLine.slice(6)) };
  });
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/v1/messages`, { method: "POST", body: JSON.stringify(body) });

Deno.test("fake server: a streamed message has the Messages API's events, in order, with their payloads", async () => {
  await using server = await FakeAnthropicServer.start([{
    content: [
      { type: "thinking", thinking: "hmm", signature: "sig" },
      { type: "text", text: "Hi", chunks: ["Hi"] },
      { type: "tool_use", id: "toolu_1", name: "add", input: { a: 1 }, chunks: 2 },
    ],
    usage: { input_tokens: 7, output_tokens: 9 },
  }]);
  const reply = await post(server.url, { model: "claude-x", stream: true, messages: [] });
  assert.equal(reply.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(reply.headers.get("request-id"), "req_fake_0");
  const events = parseSse(await reply.text());
  for (const { event, data } of events) assert.equal(data.type, event);
  assert.deepEqual(events.map((e) => e.event), [
    "message_start",
    "ping",
    "content_block_start",
    "content_block_delta",
    "content_block_delta",
    "content_block_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
  assert.deepEqual(events[0].data.message, {
    id: "msg_fake_0",
    type: "message",
    role: "assistant",
    model: "claude-x",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      input_tokens: 7,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 1,
    },
  });
  assert.deepEqual(events[2].data, {
    type: "content_block_start",
    index: 0,
    content_block: { type: "thinking", thinking: "", signature: "" },
  });
  assert.deepEqual(events[3].data.delta, { type: "thinking_delta", thinking: "hmm" });
  assert.deepEqual(events[4].data.delta, { type: "signature_delta", signature: "sig" });
  assert.deepEqual(events[7].data, {
    type: "content_block_delta",
    index: 1,
    delta: { type: "text_delta", text: "Hi" },
  });
  assert.deepEqual(events[9].data.content_block, {
    type: "tool_use",
    id: "toolu_1",
    name: "add",
    input: {},
  });
  assert.equal(
    events.slice(10, 12).map((e) => (e.data.delta as { partial_json: string }).partial_json).join(
      "",
    ),
    '{"a":1}',
  );
  assert.deepEqual(events[13].data, {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 9 },
  });
});

Deno.test("fake server: the SDK's own stream helper assembles the scripted message", async () => {
  await using server = await FakeAnthropicServer.start([{
    content: [
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: "toolu_9", name: "lookup", input: { q: "deno", n: 2 }, chunks: 4 },
    ],
    usage: { input_tokens: 3, output_tokens: 4, cache_read_input_tokens: 5 },
  }]);
  const client = new Anthropic({ apiKey: "k", baseURL: server.url, maxRetries: 0 });
  const stream = client.messages.stream({
    model: "claude-x",
    max_tokens: 100,
    messages: [{ role: "user", content: "hi" }],
  });
  const message = await stream.finalMessage();
  assert.equal(message.stop_reason, "tool_use");
  assert.deepEqual(message.content.map((b) => b.type), ["text", "tool_use"]);
  assert.equal((message.content[0] as { text: string }).text, "Let me check.");
  assert.deepEqual((message.content[1] as { input: unknown }).input, { q: "deno", n: 2 });
  assert.equal(message.usage.output_tokens, 4);
  assert.equal(message.usage.cache_read_input_tokens, 5);
});

Deno.test("fake server: errors have the API's body and headers; stream: false gets a whole message; requests are recorded", async () => {
  await using server = await FakeAnthropicServer.start([
    { error: { status: 529 } },
    { error: { status: 429, message: "slow down", headers: { "retry-after": "3" } } },
    { text: "whole" },
  ]);
  const overloaded = await post(server.url, {});
  assert.equal(overloaded.status, 529);
  assert.deepEqual(await overloaded.json(), {
    type: "error",
    error: { type: "overloaded_error", message: "fake 529 error" },
    request_id: "req_fake_0",
  });
  const limited = await post(server.url, {});
  assert.equal(limited.headers.get("retry-after"), "3");
  assert.equal((await limited.json()).error.message, "slow down");
  const whole = await post(server.url, { model: "m", messages: [{ role: "user", content: "x" }] });
  assert.deepEqual((await whole.json()).content, [{ type: "text", text: "whole" }]);
  assert.deepEqual(server.requests[2].body.messages, [{ role: "user", content: "x" }]);
  assert.equal(server.requests[2].method, "POST");
  const unscripted = await post(server.url, {});
  assert.equal(unscripted.status, 500);
  assert.match((await unscripted.json()).error.message, /no reply for request 3/);
});

Deno.test("fake server: a stream error event, and a client that goes away mid-stream", async () => {
  await using server = await FakeAnthropicServer.start([
    { text: "a b", streamErrorAfterEvents: 1, streamError: { type: "api_error", message: "boom" } },
    { text: "a b c d", stallAfterEvents: 3 },
  ]);
  const events = parseSse(await (await post(server.url, { stream: true })).text());
  assert.deepEqual(events.map((e) => e.event), ["message_start", "error"]);
  assert.deepEqual(events[1].data, {
    type: "error",
    error: { type: "api_error", message: "boom" },
  });

  const controller = new AbortController();
  const reply = await fetch(`${server.url}/v1/messages`, {
    method: "POST",
    body: JSON.stringify({ stream: true }),
    signal: controller.signal,
  });
  const reader = reply.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.cancel().catch(() => {});
  await server.disconnected(1);
  assert.equal(server.requests[1].disconnected, true);
  assert.equal(server.requests[0].disconnected, false);
});
