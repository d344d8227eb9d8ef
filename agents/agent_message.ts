import type { JsonObject } from "@meshagent/api";

/**
 * The `meshagent.agent.*` messages (agents.md §2.3, agents-sources.md §1): how people and UIs talk
 * to an agent, and how the agent answers. On the wire each is a JSON object with snake_case fields,
 * sent as the body of a room message of type {@linkcode AGENT_MESSAGE_ROOM_TYPE}; absent fields are
 * omitted, never sent as null.
 *
 * The types are described as data in {@linkcode AGENT_MESSAGE_TYPES}: each entry says which base it
 * extends (a thread message carries `thread_id`, an LLM message also `provider` and `model`) and
 * which fields it requires. {@linkcode parseAgentMessage} checks incoming JSON against that table;
 * {@linkcode agentMessage} builds an outgoing message with its `message_id` and `created_at`.
 *
 * @module
 */

/** The room message type that carries agent messages (`messaging` `send_message`). */
export const AGENT_MESSAGE_ROOM_TYPE = "agent-message";
/** The prefix of every agent message type. */
export const AGENT_MESSAGE_PREFIX = "meshagent.agent.";

/** What an agent message extends: plain, thread-scoped, or an LLM event on a thread. */
export type AgentMessageBase = "base" | "thread" | "llm";

/** One entry of {@linkcode AGENT_MESSAGE_TYPES}. */
export interface AgentMessageSpec {
  /** The base: `thread` adds `thread_id`; `llm` adds `thread_id`, `provider` and `model`. */
  base: AgentMessageBase;
  /** Who sends it: a client (person, UI) or the agent. */
  from: "client" | "agent";
  /** Fields that must be present (beyond the base's). */
  required?: readonly string[];
  /** Field defaults applied when parsing. */
  defaults?: Readonly<Record<string, unknown>>;
  /** Messages the thread storage keeps (events of a thread and the turns that made them). */
  stored?: boolean;
}

const client = (
  base: AgentMessageBase,
  required: readonly string[] = [],
  defaults?: Record<string, unknown>,
  stored = false,
): AgentMessageSpec => ({ base, from: "client", required, defaults, stored });
const event = (
  base: AgentMessageBase,
  required: readonly string[] = [],
  stored = true,
): AgentMessageSpec => ({ base, from: "agent", required, stored });

/**
 * Every agent message type (without the `meshagent.agent.` prefix) and its shape, as the official
 * runtime defines them (messages.py).
 */
export const AGENT_MESSAGE_TYPES: Readonly<Record<string, AgentMessageSpec>> = {
  // client → agent
  "thread.start": client("base"),
  "thread.open": client("thread"),
  "thread.close": client("thread"),
  "thread.clear": client("thread"),
  "thread.delete": client("thread"),
  "thread.rename": client("thread", ["name"]),
  "thread.list": client("base", [], { limit: 200, offset: 0 }),
  "thread.watch": client("base"),
  "thread.unwatch": client("base"),
  "turn.start": client("thread", ["content"], undefined, true),
  "turn.steer": client("thread", ["turn_id", "content"], undefined, true),
  "turn.interrupt": client("thread", ["turn_id"]),
  "realtime_audio.chunk": client("thread"),
  "realtime_audio.commit": client("thread"),
  "participant.connect": client("base"),
  "participant.disconnect": client("base"),
  "capabilities_request": client("base"),
  "models.request": client("base"),
  "model.change": client("thread"),
  "tool_call.approve": client("thread", ["turn_id", "item_id"]),
  "tool_call.reject": client("thread", ["turn_id", "item_id"]),
  "client_tool_call.response": client("thread", ["request_id"]),
  "secret.response": client("thread", ["request_id"]),
  // agent → client: threads
  "thread.listed": event("base", ["threads"], false),
  "thread.created": event("base", ["thread"], false),
  "thread.updated": event("base", ["thread"], false),
  "thread.deleted": event("base", ["path"], false),
  "thread.cleared": event("thread", [], false),
  "thread.started": event("base", ["thread_id"], false),
  "thread.loaded": event("thread", [], false),
  "thread.status": event("thread", [], false),
  "thread.event": event("thread", ["event"]),
  "connection.status": event("base", ["status"], false),
  "capabilities_response": event("base", [], false),
  "models.response": event("base", ["providers"], false),
  "model.changed": event("thread"),
  // agent → client: turns
  "turn.start.accepted": event("thread", ["turn_id"]),
  "turn.start.rejected": event("thread", ["error"]),
  "turn.steer.accepted": event("thread", ["turn_id"]),
  "turn.steer.rejected": event("thread", ["error"]),
  "turn.steered": event("thread", ["turn_id"]),
  "turn.interrupt.accepted": event("thread", ["turn_id"]),
  "turn.interrupted": event("thread", ["turn_id"]),
  "turn.started": event("thread", ["turn_id"]),
  "turn.ended": event("thread", ["turn_id"]),
  // agent → client: LLM output
  "reasoning_content.started": event("llm", ["turn_id", "item_id"]),
  "reasoning_content.delta": event("llm", ["turn_id", "item_id", "text"]),
  "reasoning_content.ended": event("llm", ["turn_id", "item_id"]),
  "text_content.started": event("llm", ["turn_id", "item_id"]),
  "text_content.delta": event("llm", ["turn_id", "item_id", "text"]),
  "text_content.ended": event("llm", ["turn_id", "item_id"]),
  "file_content.started": event("llm", ["turn_id", "item_id"]),
  "file_content.delta": event("llm", ["turn_id", "item_id"]),
  "file_content.ended": event("llm", ["turn_id", "item_id"]),
  "tool_call.pending": event("llm", ["turn_id", "item_id"]),
  "tool_call.in_progress": event("llm", ["turn_id", "item_id"]),
  "tool_call.started": event("llm", ["turn_id", "item_id", "tool"]),
  "tool_call.arguments_delta": event("llm", ["turn_id", "item_id", "delta"]),
  "tool_call.log_delta": event("llm", ["turn_id", "item_id", "lines"]),
  "tool_call.ended": event("llm", ["turn_id", "item_id"]),
  "tool_call.approval_requested": event("llm", ["turn_id", "item_id", "tool"]),
  "client_tool_call.requested": event("thread", ["turn_id", "request_id", "tool"]),
  "client_tool_call.cancelled": event("thread", ["turn_id", "request_id"]),
  "secret.requested": event("thread", ["turn_id", "request_id", "secret_name"]),
  "image_generation.started": event("llm", ["turn_id", "item_id"]),
  "image_generation.partial": event("llm", ["turn_id", "item_id"]),
  "image_generation.completed": event("llm", ["turn_id", "item_id"]),
  "image_generation.failed": event("llm", ["turn_id", "item_id"]),
  "audio_generation.started": event("llm", ["turn_id", "item_id"]),
  // [impl] Audio bytes are not kept in the thread (its transcript is, as text_content).
  "audio_generation.delta": event("llm", ["turn_id", "item_id"], false),
  "audio_generation.ended": event("llm", ["turn_id", "item_id"]),
  "audio_transcription.started": event("llm", ["item_id"]),
  "audio_transcription.delta": event("llm", ["item_id"]),
  "audio_transcription.completed": event("llm", ["item_id"]),
  "audio_transcription.failed": event("llm", ["item_id"]),
  "audio_input.speech_started": event("thread", [], false),
  "audio_input.speech_ended": event("thread", [], false),
  "context.compacted": event("thread"),
  "usage.updated": event("thread", ["usage"]),
};

/** An error as agent messages carry it (`turn.start.rejected`, `turn.ended`, `tool_call.ended`). */
export interface AgentError {
  /** What went wrong, for a person. */
  message: string;
  /** A stable code (`unknown_model`, `turn_not_in_progress`, …), when there is one. */
  code?: string;
}

/** Content of a turn: text, a file (a `room:///path` or other URL), or audio. */
export type AgentInputContent =
  | { type: "text"; text: string }
  | { type: "file"; url: string; name?: string; mime_type?: string }
  | { type: "audio"; url: string };

/**
 * One agent message: `type` is the full type (`meshagent.agent.turn.start`), the other fields as on
 * the wire (snake_case). Thread messages carry `thread_id`; LLM events `provider` and `model`.
 */
export interface AgentMessage {
  /** The full type, `meshagent.agent.<name>`. */
  type: string;
  /** A unique id (uuid). */
  message_id: string;
  /** When it was made (ISO 8601, UTC). */
  created_at: string;
  /** Free-form metadata. */
  metadata?: JsonObject;
  /** Who sent it (set by the receiving channel from the authenticated participant). */
  sender_name?: string;
  /** The thread (thread and LLM messages). */
  thread_id?: string;
  /** The turn, on turn-scoped messages. */
  turn_id?: string;
  /** Any other field of the type. */
  [field: string]: unknown;
}

/** Thrown by {@linkcode parseAgentMessage} for JSON that is not an agent message. */
export class AgentMessageError extends Error {
  /** A stable code for the rejection. */
  readonly code: string;

  /**
   * Creates the value.
   *
   * @param message What is wrong, naming the field.
   * @param code A stable code (default `invalid_message`).
   */
  constructor(message: string, code = "invalid_message") {
    super(message);
    this.name = "AgentMessageError";
    this.code = code;
  }
}

/**
 * The short name of an agent message type (`meshagent.agent.turn.start` → `turn.start`), or null
 * when it is not one.
 *
 * @param type A full or short type.
 * @returns The short name of a known type, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentMessageKind } from "@meshagent/agents";
 * assert.equal(agentMessageKind("meshagent.agent.turn.start"), "turn.start");
 * assert.equal(agentMessageKind("chat"), null);
 * ```
 */
export function agentMessageKind(type: string): string | null {
  const short = type.startsWith(AGENT_MESSAGE_PREFIX)
    ? type.slice(AGENT_MESSAGE_PREFIX.length)
    : "";
  return short in AGENT_MESSAGE_TYPES ? short : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Drops null and undefined fields, deeply inside plain objects (pydantic `exclude_none`). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value) || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null || item === undefined) continue;
    out[key] = withoutNulls(item);
  }
  return out;
}

/**
 * Builds an outgoing agent message: the full type, a fresh `message_id`, `created_at` now, and
 * `fields` without their null or undefined entries.
 *
 * @param kind The short type (`text_content.delta`) or the full one.
 * @param fields The type's fields (snake_case).
 * @returns The message, ready to send as JSON.
 * @throws {AgentMessageError} For an unknown type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentMessage } from "@meshagent/agents";
 * const m = agentMessage("turn.ended", { thread_id: "t", turn_id: "1", error: null });
 * assert.equal(m.type, "meshagent.agent.turn.ended");
 * assert.ok(!("error" in m) && m.message_id.length > 0);
 * ```
 */
export function agentMessage(kind: string, fields: Record<string, unknown> = {}): AgentMessage {
  const short = agentMessageKind(kind) ?? agentMessageKind(AGENT_MESSAGE_PREFIX + kind);
  if (short === null) throw new AgentMessageError(`unknown agent message type ${kind}`);
  return withoutNulls({
    message_id: crypto.randomUUID(),
    created_at: new Date().toISOString(),
    ...fields,
    type: AGENT_MESSAGE_PREFIX + short,
  }) as AgentMessage;
}

/**
 * Reads an incoming agent message: unwraps `{payload: …}`, checks the type and the fields the
 * type requires, fills defaults (`thread.list` limit 200, offset 0) and a missing `message_id` /
 * `created_at`.
 *
 * @param json The room message body.
 * @returns The message.
 * @throws {AgentMessageError} Naming what is missing or wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAgentMessage } from "@meshagent/agents";
 * const m = parseAgentMessage({
 *   payload: { type: "meshagent.agent.turn.start", thread_id: "t1", content: [{ type: "text", text: "hi" }] },
 * });
 * assert.equal(m.thread_id, "t1");
 * assert.throws(() => parseAgentMessage({ type: "meshagent.agent.turn.start" }), /thread_id/);
 * ```
 */
export function parseAgentMessage(json: unknown): AgentMessage {
  let body = json;
  if (isObject(body) && isObject(body.payload) && typeof body.type !== "string") {
    body = body.payload;
  }
  if (!isObject(body)) throw new AgentMessageError("an agent message must be a JSON object");
  if (typeof body.type !== "string") {
    throw new AgentMessageError("an agent message needs a string `type`");
  }
  const kind = agentMessageKind(body.type);
  if (kind === null) {
    throw new AgentMessageError(`unknown agent message type ${body.type}`, "unknown_type");
  }
  const spec = AGENT_MESSAGE_TYPES[kind];
  const required = [
    ...(spec.base === "base" ? [] : ["thread_id"]),
    ...(spec.required ?? []),
  ];
  for (const field of required) {
    if (body[field] === undefined || body[field] === null) {
      throw new AgentMessageError(`${kind} needs \`${field}\``);
    }
  }
  for (const field of ["thread_id", "turn_id", "item_id", "message_id"]) {
    if (body[field] !== undefined && body[field] !== null && typeof body[field] !== "string") {
      throw new AgentMessageError(`\`${field}\` must be a string`);
    }
  }
  if (kind === "turn.start" || kind === "turn.steer") checkContent(body.content, kind);
  const message: Record<string, unknown> = { ...spec.defaults, ...(withoutNulls(body) as object) };
  if (typeof message.message_id !== "string") message.message_id = crypto.randomUUID();
  if (typeof message.created_at !== "string") message.created_at = new Date().toISOString();
  return message as AgentMessage;
}

function checkContent(content: unknown, kind: string): void {
  if (!Array.isArray(content)) throw new AgentMessageError(`${kind} \`content\` must be a list`);
  content.forEach((item, index) => {
    if (!isObject(item) || typeof item.type !== "string") {
      throw new AgentMessageError(`${kind} content[${index}] must be an object with a type`);
    }
    if (item.type === "text" && typeof item.text !== "string") {
      throw new AgentMessageError(`${kind} content[${index}] of type text needs \`text\``);
    }
    if ((item.type === "file" || item.type === "audio") && typeof item.url !== "string") {
      throw new AgentMessageError(`${kind} content[${index}] of type ${item.type} needs \`url\``);
    }
  });
}

/**
 * The text of a turn's content: its text items joined by blank lines.
 *
 * @param content The `content` of a `turn.start` or `turn.steer`.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentText } from "@meshagent/agents";
 * assert.equal(contentText([{ type: "text", text: "a" }, { type: "text", text: "b" }]), "a\n\nb");
 * ```
 */
export function contentText(content: readonly AgentInputContent[] | unknown): string {
  if (!Array.isArray(content)) return "";
  return content
    .filter((item): item is { type: "text"; text: string } =>
      isObject(item) && item.type === "text" && typeof item.text === "string"
    )
    .map((item) => item.text)
    .join("\n\n");
}
