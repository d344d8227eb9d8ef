import { ErrorCode, type JsonObject } from "@meshagent/api";
import { FunctionTool, ToolError, Toolkit } from "@meshagent/tools";
import { type AgentMessage, agentMessageKind, contentText } from "./agent_message.ts";
import type { ThreadStorage } from "./thread_storage.ts";

/** One entry of a thread as the search tools show it to a model. */
export interface ThreadEntry {
  /** Its position in the thread (0 is the first). */
  index: number;
  /** Who it is from: a person, the agent, or a tool call (its arguments and result). */
  role: "user" | "assistant" | "tool";
  /** The person's (or agent's) name, when known. */
  author_name?: string;
  /** When it was said (ISO 8601). */
  created_at: string;
  /** The turn it belongs to. */
  turn_id?: string;
  /** What was said, or `toolkit.tool(arguments) → result` for a tool call. */
  text: string;
  /** Set when the text was cut to {@linkcode THREAD_ENTRY_TEXT_LIMIT} characters. */
  truncated?: true;
}

/** [impl] An entry's text is cut to this many characters in tool results. */
export const THREAD_ENTRY_TEXT_LIMIT = 4000;
/** [impl] At most this many entries come back from one search or range. */
export const THREAD_SEARCH_RESULT_LIMIT = 100;
/** [impl] A tool call's result is summarised to this many characters in its entry. */
const TOOL_RESULT_LIMIT = 500;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}

function resultSummary(message: AgentMessage): string {
  if (isObject(message.error)) return `error: ${String(message.error.message ?? "failed")}`;
  const result = message.result;
  if (!isObject(result)) return "ok";
  switch (result.type) {
    case "text":
      return String(result.text ?? "");
    case "json":
      return JSON.stringify(result.json);
    case "empty":
      return "ok";
    case "error":
      return `error: ${String(result.text ?? "failed")}`;
    default:
      return JSON.stringify(result);
  }
}

/**
 * The conversation of a thread as entries a model can search: each person's message, each
 * answer of the agent (its streamed text joined), each tool call with its result, each attached
 * file. Reasoning, status and bookkeeping messages are left out.
 *
 * @param messages The thread's stored messages, in order.
 * @param agentName The agent's name, given to its entries.
 * @returns The entries, numbered from 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentMessage, threadEntries } from "@meshagent/agents";
 * const entries = threadEntries([
 *   agentMessage("turn.start", {
 *     thread_id: "t", turn_id: "1", sender_name: "ada", content: [{ type: "text", text: "hi" }],
 *   }),
 *   agentMessage("text_content.delta", { thread_id: "t", turn_id: "1", item_id: "a", text: "hello" }),
 *   agentMessage("text_content.ended", { thread_id: "t", turn_id: "1", item_id: "a" }),
 * ]);
 * assert.deepEqual(entries.map((e) => [e.index, e.role, e.text]), [[0, "user", "hi"], [1, "assistant", "hello"]]);
 * ```
 */
export function threadEntries(
  messages: readonly AgentMessage[],
  agentName?: string,
): ThreadEntry[] {
  const entries: Omit<ThreadEntry, "index">[] = [];
  const byItem = new Map<string, Omit<ThreadEntry, "index">>();
  const item = (message: AgentMessage, role: ThreadEntry["role"], prefix: string) => {
    const key = `${prefix}:${message.item_id}`;
    let entry = byItem.get(key);
    if (!entry) {
      entry = {
        role,
        ...(agentName && role === "assistant" ? { author_name: agentName } : {}),
        created_at: message.created_at,
        ...(message.turn_id ? { turn_id: message.turn_id } : {}),
        text: "",
      };
      byItem.set(key, entry);
      entries.push(entry);
    }
    return entry;
  };
  for (const message of messages) {
    const kind = agentMessageKind(message.type);
    switch (kind) {
      case "turn.start":
      case "turn.steer": {
        const files = Array.isArray(message.content)
          ? message.content.filter((c) => isObject(c) && c.type === "file").map((c) =>
            `[attached ${c.url}]`
          )
          : [];
        entries.push({
          role: "user",
          ...(message.sender_name ? { author_name: message.sender_name } : {}),
          created_at: message.created_at,
          ...(message.turn_id ? { turn_id: message.turn_id } : {}),
          text: [contentText(message.content), ...files].filter((t) => t !== "").join("\n"),
        });
        break;
      }
      case "text_content.delta":
        item(message, "assistant", "text").text += String(message.text ?? "");
        break;
      case "text_content.ended": {
        const entry = item(message, "assistant", "text");
        if (typeof message.text === "string" && message.text.length > entry.text.length) {
          entry.text = message.text;
        }
        break;
      }
      case "file_content.delta": {
        const entry = item(message, "assistant", "file");
        entry.text += `${entry.text === "" ? "" : "\n"}[attached ${message.url}]`;
        break;
      }
      case "tool_call.started": {
        const entry = item(message, "tool", "tool");
        const name = [message.toolkit, message.tool].filter((p) => p).join(".");
        entry.text = `${name}(${JSON.stringify(message.arguments ?? {})})`;
        break;
      }
      case "tool_call.ended": {
        const entry = item(message, "tool", "tool");
        entry.text += ` → ${clip(resultSummary(message), TOOL_RESULT_LIMIT)}`;
        break;
      }
    }
  }
  return entries
    .filter((entry) => entry.text !== "")
    .map((entry, index) => ({ index, ...entry }));
}

/** An entry as a tool returns it (the text cut to the limit). */
function shown(entry: ThreadEntry, extra: JsonObject = {}): JsonObject {
  const long = entry.text.length > THREAD_ENTRY_TEXT_LIMIT;
  return {
    ...entry,
    text: long ? clip(entry.text, THREAD_ENTRY_TEXT_LIMIT) : entry.text,
    ...(long ? { truncated: true } : {}),
    ...extra,
  } as unknown as JsonObject;
}

function compile(pattern: string, ignoreCase: boolean): RegExp {
  try {
    return new RegExp(pattern, ignoreCase ? "i" : "");
  } catch (e) {
    throw new ToolError(
      `the pattern ${JSON.stringify(pattern)} is not a valid regular expression ` +
        `(${(e as Error).message}); escape special characters such as ( [ * + ? to search for them`,
      ErrorCode.INVALID_REQUEST,
    );
  }
}

const integer = (description: string) => ({ type: "integer", description });

/**
 * The `search` toolkit of a turn (agents.md §2.4 item 4): lets the model look through the whole
 * current thread, including what no longer fits its context window. Every tool answers JSON.
 *
 * - `grep_current_thread{pattern, ignore_case, messages_before, messages_after}`: the entries
 *   matching a regular expression, with neighbours for context;
 * - `get_message_range{start, end}`: entries `start` to `end` (end excluded; negative values count
 *   from the end);
 * - `count_current_thread_messages{}`: how many entries the thread has.
 *
 * The runtime makes one per turn, over the thread's storage.
 *
 * @param storage The current thread's storage.
 * @param options The agent's name (shown as the author of its entries).
 * @returns The toolkit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonContent, ToolContext } from "@meshagent/tools";
 * import { agentMessage, MemoryThreadStorageRepository, threadSearchToolkit } from "@meshagent/agents";
 * const repo = new MemoryThreadStorageRepository();
 * const storage = await repo.open(repo.newThreadId());
 * storage.push(agentMessage("turn.start", { thread_id: storage.threadId, content: [{ type: "text", text: "the code is 42" }] }));
 * const search = threadSearchToolkit(storage);
 * const ctx = new ToolContext({ caller: { id: "agent", attributes: {} } });
 * const out = await search.execute(ctx, "grep_current_thread", {
 *   pattern: "code", ignore_case: true, messages_before: 0, messages_after: 0,
 * });
 * assert(out instanceof JsonContent);
 * assert.equal((out.json as { total_matches: number }).total_matches, 1);
 * ```
 */
export function threadSearchToolkit(
  storage: ThreadStorage,
  options: { agentName?: string } = {},
): Toolkit {
  const entries = async () => threadEntries(await storage.messages(), options.agentName);
  return new Toolkit({
    name: "search",
    description: "tools for searching the conversation history of the current thread",
    tools: [
      new FunctionTool<{
        pattern: string;
        ignore_case: boolean;
        messages_before: number;
        messages_after: number;
      }>({
        name: "grep_current_thread",
        description:
          "search the current thread for text, includes messages outside the current context " +
          "window; returns the matching messages (and the neighbours asked for) as JSON",
        strict: true,
        inputSchema: {
          type: "object",
          additionalProperties: false,
          required: ["pattern", "ignore_case", "messages_before", "messages_after"],
          properties: {
            pattern: {
              type: "string",
              description: "a regular expression (JavaScript syntax) or plain words to look for",
            },
            ignore_case: { type: "boolean", description: "true to match regardless of case" },
            messages_before: integer("how many messages before each match to include (0-20)"),
            messages_after: integer("how many messages after each match to include (0-20)"),
          },
        },
        run: async (_ctx, args) => {
          const re = compile(args.pattern, args.ignore_case);
          const all = await entries();
          const hits = all.filter((entry) =>
            re.test(entry.text) || re.test(entry.author_name ?? "")
          );
          const before = Math.min(20, Math.max(0, Math.trunc(args.messages_before)));
          const after = Math.min(20, Math.max(0, Math.trunc(args.messages_after)));
          const wanted = new Map<number, boolean>();
          for (const hit of hits) {
            for (let i = hit.index - before; i <= hit.index + after; i++) {
              if (i >= 0 && i < all.length && !wanted.get(i)) wanted.set(i, i === hit.index);
            }
          }
          const indexes = [...wanted.keys()].sort((a, b) => a - b);
          const kept = indexes.slice(0, THREAD_SEARCH_RESULT_LIMIT);
          return {
            pattern: args.pattern,
            total_messages: all.length,
            total_matches: hits.length,
            messages: kept.map((i) => shown(all[i], { match: wanted.get(i) === true })),
            ...(kept.length < indexes.length
              ? {
                truncated: true,
                message: `only the first ${THREAD_SEARCH_RESULT_LIMIT} messages are shown; ` +
                  "use a narrower pattern or get_message_range",
              }
              : {}),
            ...(hits.length === 0 ? { message: "no messages were found with the pattern" } : {}),
          };
        },
      }),
      new FunctionTool<{ start: number; end: number }>({
        name: "get_message_range",
        description:
          "gets a range of messages of the current thread as JSON; index 0 is the first message " +
          "in the conversation, end is excluded, negative values count from the end " +
          `(at most ${THREAD_SEARCH_RESULT_LIMIT} messages)`,
        strict: true,
        inputSchema: {
          type: "object",
          additionalProperties: false,
          required: ["start", "end"],
          properties: {
            start: integer("the index of the first message (negative: from the end)"),
            end: integer("the index after the last message (negative: from the end)"),
          },
        },
        run: async (_ctx, { start, end }) => {
          const all = await entries();
          const at = (i: number) =>
            Math.min(all.length, Math.max(0, i < 0 ? all.length + Math.trunc(i) : Math.trunc(i)));
          const from = at(start);
          const to = Math.min(at(end), from + THREAD_SEARCH_RESULT_LIMIT);
          const messages = all.slice(from, to).map((entry) => shown(entry));
          return {
            start: from,
            end: Math.max(from, to),
            total_messages: all.length,
            messages,
            ...(messages.length === 0
              ? { message: "no messages were found within the range" }
              : {}),
          };
        },
      }),
      new FunctionTool<Record<string, never>>({
        name: "count_current_thread_messages",
        description:
          "returns the number of messages in the current thread (including those outside the " +
          "context window) as JSON",
        strict: true,
        inputSchema: { type: "object", additionalProperties: false, required: [], properties: {} },
        run: async () => {
          const all = await entries();
          return {
            count: all.length,
            ...(all.length > 0
              ? { first_created_at: all[0].created_at, last_created_at: all.at(-1)!.created_at }
              : {}),
          };
        },
      }),
    ],
  });
}
