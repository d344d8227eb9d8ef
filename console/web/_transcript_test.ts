import assert from "node:assert/strict";
import { foldAgentMessage, type TranscriptItem, type WireAgentMessage } from "./_transcript.ts";

const m = (kind: string, fields: Record<string, unknown> = {}): WireAgentMessage => ({
  type: `meshagent.agent.${kind}`,
  thread_id: "t",
  turn_id: "u",
  ...fields,
});

function fold(messages: WireAgentMessage[]): TranscriptItem[] {
  return messages.reduce(
    (items, message) => foldAgentMessage(items, message),
    [] as TranscriptItem[],
  );
}

Deno.test("a turn folds into what was said, the streamed answer and a tool call with its result", () => {
  const items = fold([
    m("turn.start", { message_id: "1", content: [{ type: "text", text: "add 2 and 3" }] }),
    m("reasoning_content.delta", { item_id: "r", text: "adding" }),
    m("tool_call.started", { item_id: "c", toolkit: "math", tool: "add", arguments: { a: 2 } }),
    m("tool_call.ended", { item_id: "c", result: { type: "json", json: { sum: 5 } } }),
    m("text_content.delta", { item_id: "x", text: "the sum " }),
    m("text_content.delta", { item_id: "x", text: "is 5" }),
    m("text_content.ended", { item_id: "x" }),
    m("usage.updated", { usage: {} }),
    m("turn.ended"),
  ]);
  assert.deepEqual(items.map((i) => i.kind), ["user", "reasoning", "tool", "assistant"]);
  assert.equal((items[0] as { text: string }).text, "add 2 and 3");
  assert.deepEqual(items[2], {
    kind: "tool",
    id: "tool:c",
    toolkit: "math",
    tool: "add",
    arguments: '{"a":2}',
    result: '{"sum":5}',
    error: null,
    approval: null,
    turnId: "u",
    itemId: "c",
  });
  assert.equal((items[3] as { text: string }).text, "the sum is 5");
});

Deno.test("streamed arguments, approvals, failed calls and failed turns are shown", () => {
  const items = fold([
    m("tool_call.arguments_delta", { item_id: "c", tool: "rm", delta: '{"pa' }),
    m("tool_call.arguments_delta", { item_id: "c", delta: 'th":"x"}' }),
    m("tool_call.approval_requested", { item_id: "c", tool: "rm" }),
  ]);
  assert.equal(items.length, 1);
  assert.equal((items[0] as { arguments: string }).arguments, '{"path":"x"}');
  assert.equal((items[0] as { approval: string }).approval, "requested");
  const after = fold([
    m("tool_call.started", { item_id: "c", tool: "rm" }),
    m("tool_call.ended", { item_id: "c", error: { message: "not allowed" } }),
    m("turn.ended", { error: { message: "model unavailable" } }),
  ]);
  assert.equal((after[0] as { error: string }).error, "not allowed");
  assert.deepEqual(after[1], { kind: "error", id: "error:1", text: "model unavailable" });
});

Deno.test("the full text of text_content.ended replaces a shorter streamed text", () => {
  const items = fold([
    m("text_content.delta", { item_id: "x", text: "hel" }),
    m("text_content.ended", { item_id: "x", text: "hello" }),
  ]);
  assert.equal((items[0] as { text: string }).text, "hello");
});
