// The chat view's model: agent messages (the agent-message protocol) folded into the items a
// person reads — what they said, streamed answer text, reasoning, tool calls with their arguments
// and results, approvals and errors. Web-standard code only (runs in the browser and in tests).

/** One thing shown in the chat transcript. */
export type TranscriptItem =
  | { kind: "user"; id: string; text: string }
  | { kind: "assistant" | "reasoning"; id: string; text: string }
  | {
    kind: "tool";
    id: string;
    toolkit: string;
    tool: string;
    arguments: string;
    result: string | null;
    error: string | null;
    approval: "requested" | null;
    turnId: string;
    itemId: string;
  }
  | { kind: "error"; id: string; text: string };

/** A message of the protocol as it arrives (`type` is `meshagent.agent.<kind>`). */
export type WireAgentMessage = Readonly<Record<string, unknown>> & { type: string };

const PREFIX = "meshagent.agent.";

function str(value: unknown): string {
  return typeof value === "string"
    ? value
    : value === undefined || value === null
    ? ""
    : JSON.stringify(value);
}

function texts(content: unknown): string {
  if (!Array.isArray(content)) return str(content);
  return content.map((
    part,
  ) => (part && typeof part === "object" && "text" in part ? str(part.text) : ""))
    .join("");
}

function errorText(error: unknown): string | null {
  if (!error) return null;
  if (typeof error === "object" && "message" in error) return str(error.message);
  return str(error);
}

/** A tool result as content (`{type: "json", json}`, `{type: "text", text}`) or as it is. */
function resultText(result: unknown): string {
  if (result && typeof result === "object" && "type" in result) {
    if (result.type === "json" && "json" in result) return JSON.stringify(result.json);
    if (result.type === "text" && "text" in result) return str(result.text);
  }
  return str(result);
}

type Fold = (items: TranscriptItem[], m: WireAgentMessage) => TranscriptItem[];

/** Appends streamed text to the item of `item_id` (made on its first delta). */
function streamed(kind: "assistant" | "reasoning"): Fold {
  return (items, m) => {
    const id = `${kind}:${str(m.item_id)}`;
    const at = items.findIndex((i) => i.id === id);
    const text = str(m.text);
    if (at < 0) return [...items, { kind, id, text }];
    const item = items[at] as { text: string };
    return items.with(at, { ...items[at], text: item.text + text } as TranscriptItem);
  };
}

/** Replaces the text with the full text an `…ended` carries, when it is longer. */
function ended(kind: "assistant" | "reasoning"): Fold {
  return (items, m) => {
    const id = `${kind}:${str(m.item_id)}`;
    const at = items.findIndex((i) => i.id === id);
    const full = str(m.text);
    if (at < 0) return full ? [...items, { kind, id, text: full }] : items;
    const item = items[at] as { text: string };
    return full.length > item.text.length
      ? items.with(at, { ...items[at], text: full } as TranscriptItem)
      : items;
  };
}

/** Updates the tool item of `item_id` (made when first seen). */
function tool(
  change: (item: Extract<TranscriptItem, { kind: "tool" }>, m: WireAgentMessage) => Partial<
    Extract<TranscriptItem, { kind: "tool" }>
  >,
): Fold {
  return (items, m) => {
    const id = `tool:${str(m.item_id)}`;
    const at = items.findIndex((i) => i.id === id);
    const base: Extract<TranscriptItem, { kind: "tool" }> = at >= 0
      ? items[at] as Extract<TranscriptItem, { kind: "tool" }>
      : {
        kind: "tool",
        id,
        toolkit: "",
        tool: str(m.tool),
        arguments: "",
        result: null,
        error: null,
        approval: null,
        turnId: str(m.turn_id),
        itemId: str(m.item_id),
      };
    const next = { ...base, ...change(base, m) };
    return at >= 0 ? items.with(at, next) : [...items, next];
  };
}

/** How each message kind changes the transcript; kinds not listed change nothing. */
const FOLDS: Readonly<Record<string, Fold>> = {
  "turn.start": (items, m) => [...items, {
    kind: "user",
    id: `user:${str(m.message_id ?? m.turn_id ?? items.length)}`,
    text: texts(m.content),
  }],
  "text_content.delta": streamed("assistant"),
  "text_content.ended": ended("assistant"),
  "reasoning_content.delta": streamed("reasoning"),
  "reasoning_content.ended": ended("reasoning"),
  "tool_call.started": tool((_, m) => ({
    toolkit: str(m.toolkit),
    tool: str(m.tool),
    arguments: m.arguments === undefined ? "" : JSON.stringify(m.arguments),
  })),
  "tool_call.arguments_delta": tool((item, m) => ({ arguments: item.arguments + str(m.delta) })),
  "tool_call.approval_requested": tool(() => ({ approval: "requested" })),
  "tool_call.ended": tool((_, m) => ({
    approval: null,
    error: errorText(m.error),
    result: m.error ? null : resultText(m.result),
  })),
  "turn.start.rejected": (items, m) => [...items, {
    kind: "error",
    id: `error:${items.length}`,
    text: `the agent refused the turn: ${errorText(m.error)}`,
  }],
  "turn.ended": (items, m) =>
    m.error
      ? [...items, { kind: "error", id: `error:${items.length}`, text: errorText(m.error)! }]
      : items,
};

/**
 * Folds one agent message into a transcript (a new array; the old one is not changed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { foldAgentMessage } from "./_transcript.ts";
 * let items = foldAgentMessage([], { type: "meshagent.agent.text_content.delta", item_id: "a", text: "he" });
 * items = foldAgentMessage(items, { type: "meshagent.agent.text_content.delta", item_id: "a", text: "llo" });
 * assert.deepEqual(items, [{ kind: "assistant", id: "assistant:a", text: "hello" }]);
 * ```
 *
 * @param items The transcript so far.
 * @param message The message.
 * @returns The transcript with the message in it.
 */
export function foldAgentMessage(
  items: readonly TranscriptItem[],
  message: WireAgentMessage,
): TranscriptItem[] {
  const kind = message.type.startsWith(PREFIX) ? message.type.slice(PREFIX.length) : message.type;
  const fold = FOLDS[kind];
  return fold ? fold([...items], message) : [...items];
}
