import { join } from "node:path";
import {
  BinaryContent,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorCode,
  ErrorContent,
  JsonContent,
  type JsonObject,
  RoomError,
} from "@meshagent/api";
import type { Participant } from "./participant.ts";
import type { ToolkitRoom } from "./toolkit_room.ts";
import type { SqliteCall, SqliteReply } from "./_sqlite_dispatch.ts";
import { openSqliteHost, type SqliteHost } from "./_sqlite_process.ts";
import type { RoomDatabaseOptions } from "./room_database.ts";
import type { RoomTool, RoomToolkit, ToolContext } from "./room_toolkit.ts";
import { checkSqliteGrant, SQLITE_TOOLS } from "./sqlite_grants.ts";

// Wire shapes: protocol-data §3.1–§3.2. The official npm client 0.39.9 has no sqlite client (only
// `dataset`, a different toolkit), so every request and reply shape here comes from the spec,
// which was checked against the official 0.47 client suite.

const EMPTY = new EmptyContent();
const NO_BYTES = new Uint8Array(0);
/** Pull headers must be exactly `{kind}` (§3.1). */
const PULL_HEADERS: JsonObject = Object.freeze({ kind: "pull" }) as JsonObject;

/** Options of {@linkcode sqliteToolkit}: batch sizes and limits of the room's databases. */
export interface SqliteToolkitOptions extends Omit<RoomDatabaseOptions, "dir" | "now"> {
  /**
   * Where the room's SQL runs: `process` (default) in a Deno process of the room's own that may
   * only touch the room's database folder, so a slow statement stalls nobody else and can be
   * stopped; `inline` on the server's event loop (no time limit; for embedders that cannot start
   * processes).
   */
  isolation?: "process" | "inline";
  /**
   * The longest one request (a statement, or one batch of a query) may run, in milliseconds
   * (default 5000). Past it the room's database process is killed and restarted, the caller gets
   * error 1009, and the room's open SQL queries and streams end. `process` isolation only.
   */
  statementTimeoutMs?: number;
  /** SQLite's heap limit in the room's database process in bytes (default 512 MiB; 0 = none). */
  maxMemoryBytes?: number;
}

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The JSON object of a unary input (`J{…}`; `empty` counts as `{}`). */
function jsonInput(ctx: ToolContext): JsonObject {
  const input = ctx.input;
  if (input instanceof JsonContent && isObject(input.json)) return input.json;
  if (input instanceof EmptyContent) return {};
  throw invalid(`sqlite.${ctx.tool} takes a json object input, not ${input.type}`);
}

/** The headers and payload of a binary-input tool (`B{…}` + bytes; `J{…}` is accepted too). */
function binaryInput(ctx: ToolContext): { headers: JsonObject; data: Uint8Array } {
  const input = ctx.input;
  if (input instanceof BinaryContent) return { headers: input.headers, data: input.data };
  if (input instanceof JsonContent && isObject(input.json)) {
    return { headers: input.json, data: NO_BYTES };
  }
  throw invalid(`sqlite.${ctx.tool} takes a binary input with JSON headers, not ${input.type}`);
}

/** The headers (or JSON) and payload of a stream chunk. */
function chunkParts(content: Content): { headers: JsonObject; data: Uint8Array } | null {
  if (content instanceof BinaryContent) return { headers: content.headers, data: content.data };
  if (content instanceof JsonContent && isObject(content.json)) {
    return { headers: content.json, data: NO_BYTES };
  }
  return null;
}

function errorChunk(error: unknown): ErrorContent {
  if (error instanceof RoomError) {
    return new ErrorContent(error.message, error.code ?? ErrorCode.OPERATION_FAILED);
  }
  console.error("sqlite toolkit: a stream failed:", error);
  return new ErrorContent(
    `internal error: ${error instanceof Error ? error.message : String(error)}`,
    ErrorCode.OPERATION_FAILED,
  );
}

/**
 * Reads the `start` chunk of a streamed call (the client sends it right after the invoke, without
 * waiting for the `open` answer). Errors found here go back as the invoke's `__response__`.
 */
async function startChunk(
  ctx: ToolContext,
  input: AsyncIterator<Content>,
): Promise<{ headers: JsonObject; data: Uint8Array }> {
  if (!(ctx.input instanceof ControlContent && ctx.input.method === "open")) {
    throw invalid(
      `sqlite.${ctx.tool} is a stream: invoke it with a control open input and send a start chunk`,
    );
  }
  const first = await input.next();
  if (first.done) {
    throw invalid(`sqlite.${ctx.tool}: the stream ended before its start chunk`);
  }
  const parts = chunkParts(first.value);
  if (parts === null || (parts.headers.kind !== undefined && parts.headers.kind !== "start")) {
    throw invalid(
      `sqlite.${ctx.tool}: the first chunk must be the start chunk {"kind": "start", …}`,
    );
  }
  return parts;
}

/** Per-participant streams to end when the participant leaves. */
type Releasable = { release(): void };

/**
 * The built-in `sqlite` toolkit (protocol-data §3.1–§3.2): the room's SQLite databases under
 * `<room data>/databases/`, served by the room's own database process (see
 * {@linkcode SqliteToolkitOptions.isolation}), started on first use and stopped when the room
 * ends. All 22 request types, each checked against the caller's `api.sqlite` grant
 * ({@linkcode checkSqliteGrant}) first:
 *
 * - unary tools answer with the exact content types of the spec (`EMPTY` where it says so);
 * - `create_table` and `insert` are write streams: start chunk → `pull` → one Arrow IPC `data`
 *   chunk per pull → the caller's `close` commits (all rows in one transaction) → `close`;
 * - `search` and `read_sql_query` are read streams: each `pull` is answered with the next Arrow
 *   batch, or `close` when the result is exhausted.
 *
 * Errors in the start chunk come back as the invoke's error response; errors later as an error
 * chunk followed by `close`. When a caller disconnects, its writes are rolled back and its
 * `search` cursors closed; SQL queries (`open_sql_query`/`execute_sql`) are room-wide and stay
 * open until `close_sql_query` (idle ones are swept by the store). A request that runs past the
 * statement time limit gets error 1009 and its room's database process is restarted.
 *
 * @param room The room.
 * @param options Isolation, time limit, batch sizes and limits of the room's databases.
 * @returns The toolkit instance of that room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Room, sqliteToolkit } from "@meshagent/server";
 * const dataDir = await Deno.makeTempDir();
 * const room = new Room({
 *   name: "demo",
 *   url: "ws://x/rooms/demo",
 *   dataDir,
 *   toolkits: [(r) => sqliteToolkit(r)],
 * });
 * assert(room.tool("sqlite", "execute_sql") !== undefined);
 * await room.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export function sqliteToolkit(room: ToolkitRoom, options: SqliteToolkitOptions = {}): RoomToolkit {
  let host: SqliteHost | undefined;
  let closed = false;
  const db = (): SqliteHost => {
    if (closed) throw new RoomError("the room is closing", ErrorCode.INVALID_STATE);
    return (host ??= openSqliteHost({
      ...options,
      dir: join(room.dataDir, "databases"),
      label: room.name,
    }));
  };
  const call = (op: string, request: JsonObject, bytes: Uint8Array = NO_BYTES, stream?: number) =>
    db().call({ op, request, bytes, stream } satisfies SqliteCall);
  const open = new Map<Participant, Set<Releasable>>();
  const track = (participant: Participant, item: Releasable): () => void => {
    let set = open.get(participant);
    if (!set) open.set(participant, set = new Set());
    set.add(item);
    return () => {
      set.delete(item);
      if (set.size === 0 && open.get(participant) === set) open.delete(participant);
    };
  };

  const grant = async (ctx: ToolContext, request: JsonObject): Promise<void> => {
    // read/close/cancel_sql_query are checked against the database their query runs on.
    const queryId = typeof request.query_id === "string" ? request.query_id : null;
    const target = queryId === null ? null : await call("query_target", { query_id: queryId });
    const denied = checkSqliteGrant(
      ctx.scope,
      ctx.tool,
      request,
      () =>
        target?.kind === "json"
          ? target.json as { database: string; namespace: string[] | null } | null
          : null,
    );
    if (denied) throw denied;
  };

  /** A unary tool: the request's JSON (or binary headers and payload) → one reply. */
  const unary = (binary: boolean): RoomTool => async (ctx) => {
    const { headers, data } = binary
      ? binaryInput(ctx)
      : { headers: jsonInput(ctx), data: NO_BYTES };
    await grant(ctx, headers);
    return content(await call(ctx.tool, headers, data));
  };

  /** Opens the stream of a start chunk; returns its number and how to release it. */
  const openStream = async (ctx: ToolContext, start: { headers: JsonObject; data: Uint8Array }) => {
    await grant(ctx, start.headers);
    const reply = await call(ctx.tool, start.headers, start.data);
    if (reply.kind !== "stream") throw new Error(`sqlite.${ctx.tool} did not open a stream`);
    const stream = reply.stream;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      call("release", {}, NO_BYTES, stream).catch(() => {});
    };
    return { stream, release, untrack: track(ctx.participant, { release }) };
  };

  /** `create_table` / `insert`: start → pull → data… → caller close → commit → close. */
  const writeStream: RoomTool = async (ctx) => {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    const { stream, release, untrack } = await openStream(ctx, await startChunk(ctx, input));
    return (async function* (): AsyncGenerator<Content> {
      try {
        yield new BinaryContent(NO_BYTES, PULL_HEADERS);
        while (true) {
          const next = await input.next();
          if (next.done) break;
          const parts = chunkParts(next.value);
          if (parts === null || parts.headers.kind !== "data") {
            throw invalid(
              `sqlite.${ctx.tool}: expected a {"kind": "data"} chunk with Arrow IPC bytes, or ` +
                `close; got ${next.value.type}`,
            );
          }
          await call("write", {}, parts.data, stream);
          yield new BinaryContent(NO_BYTES, PULL_HEADERS);
        }
        // The input ends at the caller's close, or at its disconnect: only a close commits.
        if (ctx.signal.aborted) return;
        await call("commit", {}, NO_BYTES, stream);
      } catch (error) {
        yield errorChunk(error);
      } finally {
        release(); // aborts what was not committed
        untrack();
      }
    })();
  };

  /** `search` / `read_sql_query`: each pull gets the next batch; `close` when exhausted. */
  const readStream: RoomTool = async (ctx) => {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    const { stream, release, untrack } = await openStream(ctx, await startChunk(ctx, input));
    return (async function* (): AsyncGenerator<Content> {
      try {
        while (true) {
          const next = await input.next();
          if (next.done) return; // the caller closed its input or left
          const parts = chunkParts(next.value);
          if (parts === null || parts.headers.kind !== "pull") {
            throw invalid(
              `sqlite.${ctx.tool}: expected a {"kind": "pull"} chunk or close; got ` +
                `${next.value.type}`,
            );
          }
          const batch = await call("next", {}, NO_BYTES, stream);
          if (batch.kind !== "binary") return;
          // Data headers must be exactly {kind} (§3.1).
          yield new BinaryContent(batch.bytes, { kind: "data" });
        }
      } catch (error) {
        yield errorChunk(error);
      } finally {
        // A search cursor belongs to this call; an SQL query's cursor is room-wide
        // (close_sql_query): releasing the stream keeps it open.
        release();
        untrack();
      }
    })();
  };

  const tools: Record<string, RoomTool> = {};
  for (const tool of SQLITE_TOOLS) {
    tools[tool] = STREAMS[tool] === "write"
      ? writeStream
      : STREAMS[tool] === "read"
      ? readStream
      : unary(BINARY_INPUT.has(tool));
  }

  return {
    name: "sqlite",
    surface: "sqlite",
    tools,
    participantLeft(participant: Participant): void {
      const set = open.get(participant);
      open.delete(participant);
      for (const item of set ?? []) item.release();
    },
    async close(): Promise<void> {
      closed = true;
      for (const set of open.values()) for (const item of set) item.release();
      open.clear();
      const closing = host;
      host = undefined;
      await closing?.close();
    },
  };
}

/** The stream tools; every other tool is unary. */
const STREAMS: Readonly<Record<string, "read" | "write">> = {
  create_table: "write",
  insert: "write",
  search: "read",
  read_sql_query: "read",
};

/** The unary tools whose input is binary (`B{headers}` + payload) rather than JSON. */
const BINARY_INPUT: ReadonlySet<string> = new Set([
  "add_columns",
  "open_sql_query",
  "execute_sql",
  "execute_sql_statement",
]);

/** The content a unary reply is sent as. */
function content(reply: SqliteReply): Content {
  switch (reply.kind) {
    case "empty":
      return EMPTY;
    case "json":
      return new JsonContent(reply.json as JsonObject);
    case "binary":
      return new BinaryContent(reply.bytes, reply.headers);
    case "stream":
      throw new Error("a unary sqlite tool opened a stream");
  }
}
