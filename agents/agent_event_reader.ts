import { type AgentMessage, agentMessageKind, contentText } from "./agent_message.ts";
import type { SessionAttachment, SessionItem, ToolOutputPart } from "./agent_session_context.ts";

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The text a model is shown for a stored tool result (a content's JSON, as `tool_call.ended` holds it). */
function resultText(result: unknown): string {
  if (!isObject(result)) return "ok";
  switch (result.type) {
    case "text":
      return typeof result.text === "string" ? result.text : "";
    case "json":
      return JSON.stringify(result.json);
    case "empty":
      return "ok";
    case "error":
      return `error: ${typeof result.text === "string" ? result.text : "the tool failed"}`;
    case "link":
      return `${result.name}: ${result.url}`;
    case "file":
      return `[file ${result.name} (${result.mime_type})]`;
    default:
      return JSON.stringify(result);
  }
}

function attachments(content: unknown): SessionAttachment[] | undefined {
  if (!Array.isArray(content)) return undefined;
  const files = content
    .filter((item) => isObject(item) && item.type === "file" && typeof item.url === "string")
    .map((item) => ({
      url: item.url as string,
      ...(typeof item.name === "string" ? { name: item.name } : {}),
      ...(typeof item.mime_type === "string" ? { mimeType: item.mime_type } : {}),
    }));
  return files.length > 0 ? files : undefined;
}

/**
 * Rebuilds a thread's LLM context from its stored agent messages (what a restarted agent does
 * before the first turn on an existing thread): `turn.start` and accepted `turn.steer` become user
 * messages, `text_content.*` assistant messages, `reasoning_content.*` reasoning, and
 * `tool_call.started` / `tool_call.ended` pairs a tool call and its result. Deltas are joined per
 * item; a tool call without an end (the agent stopped mid-call) gets an error result, so the
 * provider sees a well-formed history.
 *
 * @param messages The thread's stored messages, in order.
 * @returns The context items.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentMessage, sessionItemsFromMessages } from "@meshagent/agents";
 * const items = sessionItemsFromMessages([
 *   agentMessage("turn.start", { thread_id: "t", turn_id: "1", content: [{ type: "text", text: "hi" }] }),
 *   agentMessage("text_content.delta", { thread_id: "t", turn_id: "1", item_id: "a", text: "hello" }),
 *   agentMessage("text_content.ended", { thread_id: "t", turn_id: "1", item_id: "a" }),
 * ]);
 * assert.deepEqual(items.map((i) => i.kind), ["user", "assistant"]);
 * ```
 */
export function sessionItemsFromMessages(messages: readonly AgentMessage[]): SessionItem[] {
  const items: SessionItem[] = [];
  const texts = new Map<string, { kind: "assistant" | "reasoning"; text: string; index: number }>();
  const open = new Map<string, { callId: string; index: number }>();
  const textItem = (kind: "assistant" | "reasoning", message: AgentMessage) => {
    const id = String(message.item_id);
    let entry = texts.get(id);
    if (!entry) {
      entry = { kind, text: "", index: items.length };
      texts.set(id, entry);
      items.push({ kind, text: "", itemId: id, turnId: message.turn_id });
    }
    return entry;
  };
  for (const message of messages) {
    const kind = agentMessageKind(message.type);
    switch (kind) {
      case "turn.start":
      case "turn.steer":
        items.push({
          kind: "user",
          text: contentText(message.content),
          ...(attachments(message.content) ? { attachments: attachments(message.content) } : {}),
          ...(message.sender_name ? { senderName: message.sender_name } : {}),
          ...(message.turn_id ? { turnId: message.turn_id } : {}),
        });
        break;
      case "text_content.started":
      case "reasoning_content.started":
        textItem(kind.startsWith("text") ? "assistant" : "reasoning", message);
        break;
      case "text_content.delta":
      case "reasoning_content.delta": {
        const entry = textItem(kind.startsWith("text") ? "assistant" : "reasoning", message);
        entry.text += typeof message.text === "string" ? message.text : "";
        (items[entry.index] as { text: string }).text = entry.text;
        break;
      }
      case "text_content.ended":
      case "reasoning_content.ended": {
        const entry = texts.get(String(message.item_id));
        if (entry && typeof message.text === "string" && message.text.length > entry.text.length) {
          entry.text = message.text;
          (items[entry.index] as { text: string }).text = entry.text;
        }
        break;
      }
      case "tool_call.started": {
        const callId = String(message.call_id ?? message.item_id);
        open.set(String(message.item_id), { callId, index: items.length });
        items.push({
          kind: "tool_call",
          callId,
          toolkit: typeof message.toolkit === "string" ? message.toolkit : "",
          tool: String(message.tool),
          arguments: JSON.stringify(message.arguments ?? {}),
          itemId: String(message.item_id),
          turnId: message.turn_id,
        });
        break;
      }
      case "tool_call.ended": {
        const started = open.get(String(message.item_id));
        if (!started) break;
        open.delete(String(message.item_id));
        const error = isObject(message.error) ? message.error : null;
        const output: ToolOutputPart[] = [{
          type: "text",
          text: error ? `error: ${error.message}` : resultText(message.result),
        }];
        items.push({
          kind: "tool_result",
          callId: started.callId,
          output,
          ...(error ? { isError: true } : {}),
          turnId: message.turn_id,
        });
        break;
      }
    }
  }
  // Calls that never ended: the provider needs a result for each.
  for (const [, started] of [...open].reverse()) {
    items.splice(started.index + 1, 0, {
      kind: "tool_result",
      callId: started.callId,
      output: [{ type: "text", text: "error: the call did not finish (the agent stopped)" }],
      isError: true,
    });
  }
  return items.filter((item) =>
    !((item.kind === "assistant" || item.kind === "reasoning") && item.text === "")
  );
}
