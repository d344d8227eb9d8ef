import { ErrorCode, type JsonObject, type RoomClient } from "@meshagent/api";
import { FunctionTool, type Tool, ToolError, Toolkit } from "@meshagent/tools";
import type { AgentEventSink } from "./llm_adapter.ts";
import type { ThreadInfo, ThreadStorageRepository } from "./thread_storage.ts";

/** [impl] `list_threads` returns at most this many threads per call (as `thread.list`). */
const MAX_LIST_LIMIT = 200;

/** Options of {@linkcode chatTurnToolkit}. */
export interface ChatTurnToolkitOptions {
  /** The agent's thread repository (what `list_threads` and `grep_thread_list` read). */
  repository: ThreadStorageRepository;
  /**
   * Receives the `file_content.started` / `delta{url}` / `ended` events of `attach_file` for the
   * current turn (the runtime adds the thread and turn ids). Without it there is no `attach_file`.
   */
  emit?: AgentEventSink;
  /**
   * The room whose storage `attach_file` checks (default: the tool call's room). Without a room the
   * path is attached unchecked.
   */
  room?: RoomClient | null;
}

function entry(info: ThreadInfo): JsonObject {
  return {
    name: info.name ?? "",
    path: info.path,
    created_at: info.created_at,
    modified_at: info.modified_at,
  };
}

/** The URL `attach_file` emits: a room path becomes `room:///path`; http(s) URLs stay. */
function attachmentUrl(path: string): { url: string; roomPath?: string } {
  const trimmed = path.trim();
  if (/^https?:\/\//i.test(trimmed)) return { url: trimmed };
  const roomPath = trimmed.replace(/^room:\/\//, "").replace(/^\/+/, "").replace(/^\.\//, "");
  if (roomPath === "" || roomPath.endsWith("/")) {
    throw new ToolError(
      `attach_file needs the path of a file in the room (e.g. "reports/summary.pdf"), got ` +
        JSON.stringify(path),
      ErrorCode.INVALID_REQUEST,
    );
  }
  return { url: `room:///${roomPath}`, roomPath };
}

/**
 * The `chat` toolkit of a turn (agents.md §2.4 item 4), over the agent's thread repository:
 *
 * - `list_threads{limit, offset}`: the agent's threads, newest first (JSON);
 * - `grep_thread_list{pattern, ignore_case}`: the threads whose name, path or dates match a
 *   regular expression (JSON);
 * - `attach_file{path}` (when `emit` is given): shows a room file (or an http(s) URL) to the
 *   people in the thread, as `file_content.started/delta{url: "room:///path"}/ended` of the
 *   current turn; a room file must exist.
 *
 * The runtime makes one per turn, passing the turn's event sink.
 *
 * @param options The repository, the turn's event sink and the room to check files in.
 * @returns The toolkit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonContent, ToolContext } from "@meshagent/tools";
 * import { type AgentEvent, chatTurnToolkit, MemoryThreadStorageRepository } from "@meshagent/agents";
 * const repository = new MemoryThreadStorageRepository();
 * await repository.touch(repository.newThreadId(), "Trip to Lisbon");
 * const events: AgentEvent[] = [];
 * const chat = chatTurnToolkit({ repository, emit: (e) => events.push(e) });
 * const ctx = new ToolContext({ caller: { id: "agent", attributes: {} } });
 * const found = await chat.execute(ctx, "grep_thread_list", { pattern: "lisbon", ignore_case: true });
 * assert(found instanceof JsonContent && (found.json as { total_matches: number }).total_matches === 1);
 * await chat.execute(ctx, "attach_file", { path: "plans/lisbon.md" });
 * assert.deepEqual(events.map((e) => e.type), ["file_content.started", "file_content.delta", "file_content.ended"]);
 * assert.equal(events[1].url, "room:///plans/lisbon.md");
 * ```
 */
export function chatTurnToolkit(options: ChatTurnToolkitOptions): Toolkit {
  const { repository, emit } = options;
  const tools: Tool[] = [
    new FunctionTool<{ limit: number; offset: number }>({
      name: "list_threads",
      description: "lists the agent's chat threads sorted by last modified date (newest first) " +
        "as JSON: name, path, created_at and modified_at of each, and the total",
      strict: true,
      inputSchema: {
        type: "object",
        additionalProperties: false,
        required: ["limit", "offset"],
        properties: {
          limit: {
            type: "integer",
            description: `how many threads (1-${MAX_LIST_LIMIT}), e.g. 20`,
          },
          offset: { type: "integer", description: "how many of the newest threads to skip" },
        },
      },
      run: async (_ctx, args) => {
        const limit = Math.min(MAX_LIST_LIMIT, Math.max(1, Math.trunc(args.limit)));
        const offset = Math.max(0, Math.trunc(args.offset));
        const page = await repository.list({ limit, offset });
        return {
          threads: page.threads.map(entry),
          total: page.total,
          offset,
          limit,
          sort: "modified_at_desc",
          ...(page.threads.length === 0
            ? {
              message: page.total === 0
                ? "no threads were found in the thread list"
                : "no threads were found for the requested limit/offset",
            }
            : {}),
        };
      },
    }),
    new FunctionTool<{ pattern: string; ignore_case: boolean }>({
      name: "grep_thread_list",
      description: "searches the agent's thread list for threads whose name, path or dates " +
        "match a regular expression; returns the matching threads as JSON",
      strict: true,
      inputSchema: {
        type: "object",
        additionalProperties: false,
        required: ["pattern", "ignore_case"],
        properties: {
          pattern: {
            type: "string",
            description: "a regular expression (JavaScript syntax) or plain words",
          },
          ignore_case: { type: "boolean", description: "true to match regardless of case" },
        },
      },
      run: async (_ctx, args) => {
        const needle = args.pattern.trim();
        if (needle === "") {
          throw new ToolError(
            "grep_thread_list needs a pattern; use list_threads to see every thread",
            ErrorCode.INVALID_REQUEST,
          );
        }
        let re: RegExp;
        try {
          re = new RegExp(needle, args.ignore_case ? "i" : "");
        } catch (e) {
          throw new ToolError(
            `the pattern ${JSON.stringify(needle)} is not a valid regular expression ` +
              `(${(e as Error).message}); escape special characters to search for them`,
            ErrorCode.INVALID_REQUEST,
          );
        }
        const first = await repository.list({ limit: MAX_LIST_LIMIT, offset: 0 });
        const all = [...first.threads];
        while (all.length < first.total) {
          const page = await repository.list({ limit: MAX_LIST_LIMIT, offset: all.length });
          if (page.threads.length === 0) break;
          all.push(...page.threads);
        }
        const matches = all.filter((t) =>
          re.test(`${t.name ?? ""}\n${t.path}\n${t.created_at}\n${t.modified_at}`)
        );
        return {
          threads: matches.map(entry),
          total_matches: matches.length,
          pattern: needle,
          ignore_case: args.ignore_case,
          ...(matches.length === 0 ? { message: "no matching threads were found" } : {}),
        };
      },
    }),
  ];
  if (emit) {
    tools.push(
      new FunctionTool<{ path: string }>({
        name: "attach_file",
        description: "attach a room file (its path, e.g. reports/summary.pdf) or an http(s) URL " +
          "to the current thread so the people in it can see and open it",
        strict: true,
        inputSchema: {
          type: "object",
          additionalProperties: false,
          required: ["path"],
          properties: {
            path: { type: "string", description: "the file's path in the room, or a URL" },
          },
        },
        run: async (ctx, args) => {
          const { url, roomPath } = attachmentUrl(args.path);
          const room = options.room ?? ctx.room;
          if (roomPath !== undefined && room && !(await room.storage.exists(roomPath))) {
            throw new ToolError(
              `there is no file at ${JSON.stringify(roomPath)} in the room; give the path of an ` +
                "existing file (write it first if it does not exist yet)",
              ErrorCode.STORAGE_NOT_FOUND,
            );
          }
          const itemId = crypto.randomUUID();
          emit({ type: "file_content.started", item_id: itemId });
          emit({ type: "file_content.delta", item_id: itemId, url });
          emit({ type: "file_content.ended", item_id: itemId });
          return { attached: url };
        },
      }),
    );
  }
  return new Toolkit({
    name: "chat",
    description: "tools for the agent's chat threads",
    tools,
  });
}
