// Session items → Messages API messages: alternation, tool runs, attachments, replayable state.
import assert from "node:assert/strict";
import type { SessionItem } from "@meshagent/agents";
import { type MessageConversion, toAnthropicMessages } from "./_messages.ts";
import { AnthropicMessagesToolResponseAdapter } from "./anthropic_messages_tool_response_adapter.ts";
import { retryAfterMs } from "./_errors.ts";

const blocks = new AnthropicMessagesToolResponseAdapter();
const conversion: MessageConversion = {
  toolName: (toolkit, tool) => toolkit === "math" ? `m_${tool}` : tool,
  toolResultContent: (parts) => blocks.toolResultContent(parts),
};
const text = (value: string) => ({ type: "text" as const, text: value });

Deno.test("messages: interleaved parallel calls and results (as the loop appends them) become one exchange", () => {
  const items: SessionItem[] = [
    { kind: "user", text: "go" },
    { kind: "assistant", text: "" },
    { kind: "tool_call", callId: "a", toolkit: "math", tool: "add", arguments: '{"a":1}' },
    { kind: "tool_result", callId: "a", output: [text("1")] },
    { kind: "tool_call", callId: "b", toolkit: "math", tool: "add", arguments: "{broken" },
    { kind: "tool_result", callId: "b", output: [text("error: bad")], isError: true },
    { kind: "user", text: "steer" },
  ];
  assert.deepEqual(toAnthropicMessages(items, conversion), [
    { role: "user", content: [text("go")] },
    {
      role: "assistant",
      content: [
        { type: "tool_use", id: "a", name: "m_add", input: { a: 1 } },
        { type: "tool_use", id: "b", name: "m_add", input: {} },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "a", content: [text("1")] },
        { type: "tool_result", tool_use_id: "b", content: [text("error: bad")], is_error: true },
        text("steer"),
      ],
    },
  ]);
});

Deno.test("messages: a call without a result gets an error result; a result without a call becomes text", () => {
  const messages = toAnthropicMessages([
    { kind: "user", text: "go" },
    { kind: "tool_result", callId: "lost", output: [text("42")] },
    { kind: "tool_call", callId: "c", toolkit: "", tool: "t", arguments: "" },
    { kind: "assistant", text: "later" },
  ], conversion);
  assert.deepEqual(messages, [
    { role: "user", content: [text("go")] },
    { role: "assistant", content: [{ type: "tool_use", id: "c", name: "t", input: {} }] },
    {
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "c",
          content: [text("error: the call did not finish")],
          is_error: true,
        },
        // tool_result blocks come first in a user message; the orphan follows as text.
        text("tool result lost: 42"),
      ],
    },
    { role: "assistant", content: [text("later")] },
  ]);
});

Deno.test("messages: attachments as image, document, text or a note; unsupported images are named", () => {
  const b64 = (s: string) => btoa(s);
  const [user] = toAnthropicMessages([{
    kind: "user",
    text: "look",
    attachments: [
      { url: "room:///a.jpg", name: "a.jpg", mimeType: "image/jpg", data: "AAAA" },
      { url: "room:///r.pdf", name: "r.pdf", mimeType: "application/pdf", data: "BBBB" },
      { url: "room:///n.md", name: "n.md", mimeType: "text/markdown", data: b64("# hi") },
      { url: "room:///x.bmp", name: "x.bmp", mimeType: "image/bmp", data: "CCCC" },
      { url: "room:///z.bin", name: "z.bin", mimeType: "application/zip", data: "DDDD" },
      { url: "https://example.com/p.png" },
      { url: "https://example.com/doc.pdf", name: "doc.pdf" },
      { url: "room:///later.txt" },
    ],
  }], conversion);
  assert.deepEqual(user.content, [
    text("look"),
    { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "AAAA" } },
    {
      type: "document",
      title: "r.pdf",
      source: { type: "base64", media_type: "application/pdf", data: "BBBB" },
    },
    text("attached file n.md (text/markdown):\n# hi"),
    text("the user attached an image in unsupported format image/bmp"),
    text("the user attached a file named z.bin with mime type application/zip"),
    { type: "image", source: { type: "url", url: "https://example.com/p.png" } },
    {
      type: "document",
      title: "doc.pdf",
      source: { type: "url", url: "https://example.com/doc.pdf" },
    },
    text("the user attached a file available at room:///later.txt"),
  ]);
});

Deno.test("messages: Anthropic state is replayed (thinking with a signature, redacted, raw blocks); the rest is not", () => {
  const messages = toAnthropicMessages([
    { kind: "user", text: "q" },
    {
      kind: "reasoning",
      text: "hm",
      provider: "anthropic",
      state: { type: "thinking", signature: "s" },
    },
    {
      kind: "reasoning",
      text: "unsigned",
      provider: "anthropic",
      state: { type: "thinking", signature: "" },
    },
    {
      kind: "reasoning",
      text: "",
      provider: "anthropic",
      state: { type: "redacted_thinking", data: "r" },
    },
    {
      kind: "reasoning",
      text: "",
      provider: "anthropic",
      state: {
        type: "block",
        block: { type: "server_tool_use", id: "s1", name: "web_search", input: {} },
      },
    },
    {
      kind: "reasoning",
      text: "encrypted elsewhere",
      provider: "openai",
      state: { type: "thinking", signature: "x" },
    },
    { kind: "assistant", text: "a" },
  ], conversion);
  assert.deepEqual(messages[1].content, [
    { type: "thinking", thinking: "hm", signature: "s" },
    { type: "redacted_thinking", data: "r" },
    { type: "server_tool_use", id: "s1", name: "web_search", input: {} },
    text("a"),
  ]);
});

Deno.test("tool results: images Anthropic cannot take and other files are described in text", () => {
  assert.deepEqual(
    blocks.toolResultContent([
      { type: "image", mimeType: "image/tiff", data: "AA" },
      { type: "file", mimeType: "application/zip", name: "z.zip", data: "AA" },
      { type: "text", text: "" },
    ]),
    [
      text("image was returned as image/tiff, which Anthropic does not accept as an image"),
      text("[file z.zip (application/zip)]"),
    ],
  );
});

Deno.test("retry-after: milliseconds, seconds and HTTP dates", () => {
  const headers = (init: Record<string, string>) => new Headers(init);
  assert.equal(retryAfterMs(headers({ "retry-after-ms": "250", "retry-after": "9" })), 250);
  assert.equal(retryAfterMs(headers({ "retry-after": "2" })), 2000);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(
    retryAfterMs(headers({ "retry-after": "Thu, 01 Jan 2026 00:00:03 GMT" }), now),
    3000,
  );
  assert.equal(retryAfterMs(headers({ "retry-after": "soon" })), undefined);
  assert.equal(retryAfterMs(undefined), undefined);
});
