import { join } from "node:path";
import {
  ARROW_STREAM_CONTENT_TYPE,
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
import type { Room } from "./room.ts";
import {
  type CreateDatabaseRequest,
  type CreateTableRequest,
  RoomDatabase,
  type RoomDatabaseOptions,
  type SqlRequest,
  type TableRequest,
} from "./room_database.ts";
import type { RoomTool, RoomToolkit, ToolContext } from "./room_toolkit.ts";
import { checkSqliteGrant } from "./sqlite_grants.ts";
import type { SqliteResultCursor } from "./sqlite_result_cursor.ts";
import type { SqliteTableWriter } from "./sqlite_table_writer.ts";

// Wire shapes: protocol-data §3.1–§3.2. The official npm client 0.39.9 has no sqlite client (only
// `dataset`, a different toolkit), so every request and reply shape here comes from the spec,
// which was checked against the official 0.47 client suite.

const EMPTY = new EmptyContent();
const NO_BYTES = new Uint8Array(0);
/** Pull headers must be exactly `{kind}` (§3.1). */
const PULL_HEADERS: JsonObject = Object.freeze({ kind: "pull" }) as JsonObject;

/** Options of {@linkcode sqliteToolkit}. */
export type SqliteToolkitOptions = Omit<RoomDatabaseOptions, "dir">;

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
 * The built-in `sqlite` toolkit (protocol-data §3.1–§3.2): the room's SQLite databases, one
 * {@linkcode RoomDatabase} per room under `<room data>/databases/`, opened on first use and
 * closed when the room ends. All 22 request types, each checked against the caller's
 * `api.sqlite` grant ({@linkcode checkSqliteGrant}) first:
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
 * open until `close_sql_query` (idle ones are swept by the store).
 *
 * @param room The room.
 * @param options Batch sizes and limits of the room's database store.
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
export function sqliteToolkit(room: Room, options: SqliteToolkitOptions = {}): RoomToolkit {
  let database: RoomDatabase | undefined;
  let closed = false;
  const db = (): RoomDatabase => {
    if (closed) throw new RoomError("the room is closing", ErrorCode.INVALID_STATE);
    return (database ??= new RoomDatabase({ ...options, dir: join(room.dataDir, "databases") }));
  };
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

  const grant = (ctx: ToolContext, request: JsonObject): void => {
    const store = db();
    const denied = checkSqliteGrant(ctx.scope, ctx.tool, request, (id) => store.queryTarget(id));
    if (denied) throw denied;
  };

  /** A unary tool over a JSON input. */
  const unary = (run: (request: JsonObject) => Content): RoomTool => (ctx) => {
    const request = jsonInput(ctx);
    grant(ctx, request);
    return run(request);
  };

  /** A binary-input tool (`add_columns`, the SQL tools). */
  const binary = (run: (headers: JsonObject, data: Uint8Array) => Content): RoomTool => (ctx) => {
    const { headers, data } = binaryInput(ctx);
    grant(ctx, headers);
    return run(headers, data);
  };

  /** `create_table` / `insert`: start → pull → data… → caller close → commit → close. */
  const writeStream = (
    open: (start: JsonObject, data: Uint8Array) => SqliteTableWriter,
  ): RoomTool =>
  async (ctx) => {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    const start = await startChunk(ctx, input);
    grant(ctx, start.headers);
    const writer = open(start.headers, start.data);
    const untrack = track(ctx.participant, { release: () => writer.abort() });
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
          // Clients skip empty batches; an empty payload is accepted and ignored.
          if (parts.data.length > 0) writer.write(parts.data);
          yield new BinaryContent(NO_BYTES, PULL_HEADERS);
        }
        // The input ends at the caller's close, or at its disconnect: only a close commits.
        if (ctx.signal.aborted) return;
        writer.commit();
      } catch (error) {
        writer.abort();
        yield errorChunk(error);
      } finally {
        writer.abort(); // no-op after commit
        untrack();
      }
    })();
  };

  /** `search` / `read_sql_query`: each pull gets the next batch; `close` when exhausted. */
  const readStream = (
    open: (start: JsonObject) => SqliteResultCursor,
    ownsCursor: boolean,
  ): RoomTool =>
  async (ctx) => {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    const start = await startChunk(ctx, input);
    grant(ctx, start.headers);
    const cursor = open(start.headers);
    // A search cursor belongs to this call; an SQL query's cursor is room-wide (close_sql_query).
    const untrack = ownsCursor
      ? track(ctx.participant, { release: () => cursor.close() })
      : () => {};
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
          const batch = cursor.next();
          if (batch === null) return;
          // Data headers must be exactly {kind} (§3.1).
          yield new BinaryContent(batch, { kind: "data" });
        }
      } catch (error) {
        yield errorChunk(error);
      } finally {
        if (ownsCursor) cursor.close();
        untrack();
      }
    })();
  };

  const queryReply = (result: { query_id: string; schema: Uint8Array }): Content =>
    new BinaryContent(result.schema, { kind: "query", query_id: result.query_id });

  return {
    name: "sqlite",
    surface: "sqlite",
    tools: {
      list_databases: unary((req) => new JsonContent(db().listDatabases(req))),
      create_database: unary((req) => {
        db().createDatabase(req as unknown as CreateDatabaseRequest);
        return EMPTY;
      }),
      drop_database: unary((req) => {
        db().dropDatabase(req as unknown as CreateDatabaseRequest);
        return EMPTY;
      }),
      inspect_database: unary((req) =>
        new JsonContent(db().inspectDatabase(req as unknown as CreateDatabaseRequest))
      ),
      list_tables: unary((req) =>
        new JsonContent(db().listTables(req as unknown as { database: string }))
      ),
      create_table: writeStream((start, data) =>
        db().createTable(start as unknown as CreateTableRequest, data)
      ),
      drop_table: unary((req) => {
        db().dropTable(req as unknown as { database: string; name: string });
        return EMPTY;
      }),
      rename_table: unary((req) => {
        db().renameTable(
          req as unknown as { database: string; name: string; new_name: string },
        );
        return EMPTY;
      }),
      inspect: unary((req) =>
        new BinaryContent(db().inspect(req as unknown as TableRequest), {
          content_type: ARROW_STREAM_CONTENT_TYPE,
        })
      ),
      add_columns: binary((headers, data) => {
        if (data.length === 0) {
          throw invalid("sqlite.add_columns needs the Arrow schema of the new columns as payload");
        }
        db().addColumns(headers as unknown as TableRequest, data);
        return EMPTY;
      }),
      drop_columns: unary((req) => {
        db().dropColumns(req as unknown as TableRequest & { columns: string[] });
        return EMPTY;
      }),
      insert: writeStream((start) => db().insert(start as unknown as TableRequest)),
      update: unary((req) =>
        new JsonContent(db().update(req as unknown as TableRequest & { values: [] }))
      ),
      delete: unary((req) => new JsonContent(db().delete(req as unknown as TableRequest))),
      search: readStream((start) => db().search(start as unknown as TableRequest), true),
      count: unary((req) => new JsonContent(db().count(req as unknown as TableRequest))),
      open_sql_query: binary((headers) =>
        queryReply(db().openSqlQuery(headers as unknown as SqlRequest))
      ),
      execute_sql: binary((headers) => {
        const result = db().executeSql(headers as unknown as SqlRequest);
        return result.kind === "query" ? queryReply(result) : new JsonContent({
          kind: "statement",
          rows_affected: result.rows_affected,
        });
      }),
      read_sql_query: readStream(
        (start) => db().readSqlQuery(start as unknown as { query_id: string }),
        false,
      ),
      close_sql_query: unary((req) => {
        db().closeSqlQuery(req as unknown as { query_id: string });
        return EMPTY;
      }),
      cancel_sql_query: unary((req) =>
        new JsonContent(db().cancelSqlQuery(req as unknown as { query_id: string }))
      ),
      execute_sql_statement: binary((headers) =>
        new JsonContent(db().executeSqlStatement(headers as unknown as SqlRequest))
      ),
    },
    participantLeft(participant: Participant): void {
      const set = open.get(participant);
      open.delete(participant);
      for (const item of set ?? []) item.release();
    },
    close(): void {
      closed = true;
      for (const set of open.values()) for (const item of set) item.release();
      open.clear();
      database?.close();
      database = undefined;
    },
  };
}
